"""Signups that made nothing, remembered so that logging in to them answers like a real one.

With ``REQUIRE_VERIFIED_EMAIL`` on, a signup with an address that already
has an account answers 201 like a new one and makes nothing (its owner is
mailed instead). Without more, the next step would tell: logging in to a
new, unverified account answers 403 ``email_not_verified``, to one that was
never made 401. So the name and the password hash of such a signup are kept
in Redis for as long as a verification link would live: a login with them
answers 403 as for a real unverified account, and the name answers
``username_taken`` to the next signup, as a real account's would. Keys are
hashes of the normalised name or address (personal data stays out of Redis).
"""

import hashlib

import redis

BY_NAME = "signup-ghost:name:"
BY_ADDRESS = "signup-ghost:email:"


def _key(prefix: str, normalised: str) -> str:
    return prefix + hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class SignupGhosts:
    """The signups that made nothing, for ``ttl`` seconds each."""

    def __init__(self, client: redis.Redis, ttl: int):
        self._redis = client
        self._ttl = ttl

    def remember(self, username_key: str, email_key: str, password_hash: str) -> None:
        """Keep a signup that made nothing: its name (first come keeps it) and its address's latest hash."""
        self._redis.set(_key(BY_NAME, username_key), password_hash, ex=self._ttl, nx=True)
        self._redis.set(_key(BY_ADDRESS, email_key), password_hash, ex=self._ttl)

    def hash_for_name(self, username_key: str) -> str | None:
        """The password hash of a remembered signup of this name, if any."""
        found = self._redis.get(_key(BY_NAME, username_key))
        return found.decode("ascii") if isinstance(found, bytes) else found

    def hash_for_address(self, email_key: str) -> str | None:
        """The password hash of the latest remembered signup with this address, if any."""
        found = self._redis.get(_key(BY_ADDRESS, email_key))
        return found.decode("ascii") if isinstance(found, bytes) else found
