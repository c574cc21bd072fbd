"""Opaque refresh tokens: random, stored only as a SHA-256, bound to a session.

They are not JWTs on purpose: nothing can mistake one for an access token
(no dots, a distinct prefix), and a database lookup is needed anyway to
enforce single use.
"""

import hashlib
import secrets

PREFIX = "rt_"
RANDOM_BYTES = 32
# PREFIX + 43 base64url characters; anything else can't be ours.
TOKEN_LENGTH = len(PREFIX) + 43


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash to store for it."""
    token = PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    """The stored form of a refresh token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def looks_like_refresh_token(value: object) -> bool:
    """True if ``value`` has the shape of a token we issue (cheap pre-check)."""
    return isinstance(value, str) and len(value) == TOKEN_LENGTH and value.startswith(PREFIX)
