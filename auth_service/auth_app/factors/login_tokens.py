"""The opaque ``mfa_token`` of a password login waiting for its second factor.

Random, stored only as a SHA-256, single use, bound to one user; its own
prefix, so nothing mistakes it for a refresh or access token.
"""

import hashlib
import secrets

PREFIX = "mfa_"
RANDOM_BYTES = 32
TOKEN_LENGTH = len(PREFIX) + 43
TTL_SECONDS = 300
MAX_FAILURES = 5


def new_login_token() -> tuple[str, bytes]:
    """A fresh token and the hash to store for it."""
    token = PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    return token, hash_login_token(token)


def hash_login_token(token: str) -> bytes:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def looks_like_login_token(value: object) -> bool:
    """True if ``value`` has the shape of a token we issue (cheap pre-check)."""
    return isinstance(value, str) and len(value) == TOKEN_LENGTH and value.startswith(PREFIX)
