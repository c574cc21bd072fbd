"""Validation and normalisation of what clients send (docs/API.md signup rules)."""

import functools
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from authcore.errors import ValidationFailed

USERNAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
USERNAME_MIN, USERNAME_MAX = 3, 39
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_BYTES = 72  # bcrypt's limit: longer passwords are refused, never truncated
EMAIL_MAX_CHARS = 254
ROLE = re.compile(r"[a-z0-9_-]{1,32}")
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common_passwords.txt"


def normalise_username(raw: str) -> str:
    """NFKC then case-fold, so 'Alice' and its fullwidth twin are both 'alice'."""
    return unicodedata.normalize("NFKC", raw).casefold()


def normalise_email(raw: str) -> str:
    """An address's one spelling, the key every lookup, throttle and mail limit compares.

    NFKC, then case-folded, then NFKC again: case folding can undo the
    composition (U+0130 folds to "i" + a combining dot), and the second pass
    makes the key stable (normalising a key gives the same key). Fullwidth
    and composed or combining forms of one address share a key, "ß" and
    "ss" too. The address as typed is kept for display and for sending.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold())


def username_problem(username: str) -> str | None:
    """Why a normalised username is not allowed, or None."""
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        return f"must be {USERNAME_MIN}-{USERNAME_MAX} characters"
    if not USERNAME.fullmatch(username):
        return "only a-z, 0-9 and single hyphens between them"
    return None


def password_problem(password: str) -> str | None:
    """Why a password is not allowed, or None (length and commonness only: no composition rules)."""
    if len(password) < PASSWORD_MIN_CHARS:
        return f"must be at least {PASSWORD_MIN_CHARS} characters"
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        return f"must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8"
    if password.casefold() in common_passwords():
        return "is one of the most commonly used passwords"
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most common passwords long enough to matter, lower-cased (NIST SP 800-63B 5.1.1.2).

    Shipped as data (``data/common_passwords.txt``, whose header says where
    it came from): zxcvbn's 30,000 passwords ranked by frequency in real
    leaks, those of 8+ characters. The zxcvbn package itself would build its
    matchers from every word list and keep ~40 MB per process.
    """
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("# ") and line != "#")


def email_problem(email: str) -> str | None:
    """Why an email address is not valid syntax, or None (no DNS lookup)."""
    if len(email) > EMAIL_MAX_CHARS:
        return "is too long"
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return "is not a valid email address"
    return None


def require_strings(body: Mapping[str, object], names: tuple[str, ...]) -> dict[str, str]:
    """Return ``body``'s fields ``names`` as non-empty strings without NUL, or raise 422.

    Unknown fields are ignored on purpose: no mass assignment.
    """
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in names:
        value = body.get(name)
        if value is None:
            problems[name] = "is required"
        elif not isinstance(value, str):
            problems[name] = "must be a string"
        elif not value:
            problems[name] = "must not be empty"
        elif "\x00" in value:
            problems[name] = "must not contain NUL characters"
        else:
            values[name] = value
    if problems:
        raise ValidationFailed(fields=problems)
    return values


def validated_signup(body: Mapping[str, object]) -> dict[str, str]:
    """The normalised signup fields, or 422 with every problem found."""
    fields = require_strings(body, ("username", "email", "password"))
    username = normalise_username(fields["username"])
    problems = {
        "username": username_problem(username),
        "email": email_problem(fields["email"]),
        "password": password_problem(fields["password"]),
    }
    problems = {name: problem for name, problem in problems.items() if problem}
    if problems:
        raise ValidationFailed(fields=problems)
    return {"username": username, "email": fields["email"], "password": fields["password"]}
