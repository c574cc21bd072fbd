"""Password hashing with bcrypt, and a timing-equal check for unknown users."""

import functools

import bcrypt


def hash_password(password: str, rounds: int) -> str:
    """A bcrypt hash of ``password`` at cost ``rounds``."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True if ``password`` matches ``password_hash``.

    With no hash (unknown user) a dummy hash of the same cost is checked, so
    an unknown user and a wrong password take the same time.
    """
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        candidate = b""  # bcrypt 5 raises on >72 bytes; such a password never matched
    target = (password_hash or _dummy_hash(rounds)).encode("ascii")
    return bcrypt.checkpw(candidate, target) and password_hash is not None


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return hash_password("not-a-real-password-just-for-timing", rounds)
