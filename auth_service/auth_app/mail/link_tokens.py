"""The single-use tokens mailed to users: random, shown once, stored as a SHA-256."""

import hashlib
import re
import secrets

TOKEN_BYTES = 32
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose name, not a secret)
EMAIL_VERIFICATION = "email_verification"


def new_email_token() -> tuple[str, bytes]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_email_token(token)


def hash_email_token(token: str) -> bytes:
    """The stored form of a token (a fast hash is right: the token has 256 random bits)."""
    return hashlib.sha256(token.encode("ascii")).digest()


def looks_like_email_token(token: str) -> bool:
    """True if ``token`` has the shape of one we issue (anything else is refused before a lookup)."""
    return bool(TOKEN_SHAPE.fullmatch(token))
