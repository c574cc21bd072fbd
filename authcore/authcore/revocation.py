"""The Redis revocation list, keyed by claims, never by the token string.

Two kinds of entry, each expiring once every token it revokes has expired
anyway (access-token lifetime plus clock leeway), so the list stays small:

- ``revoked:sid:<session id>``: every access token of an ended session.
- ``revoked:user:<user id>`` = cutoff (epoch seconds, milliseconds kept):
  every access token of that user issued before the cutoff.

Personal access tokens have entries of their own (``pat:<hash>``, see
``authcore.pats``), read by ``read_entry`` in the same single ``MGET``.

A third key, ``revoked:ready``, is written once the list is complete (by
auth_service's rebuild from Postgres, the source of truth). The API reads
it in the same ``MGET``: a Redis that lost its data has no marker, and the
API then fails closed (503) until the rebuild has run, instead of letting
revoked tokens back in.
"""

import math
import time
from typing import cast

import redis

from authcore import metrics
from authcore.tokens import AccessClaims

SESSION_PREFIX = "revoked:sid:"
USER_CUTOFF_PREFIX = "revoked:user:"
READY_KEY = "revoked:ready"

# Keeps the larger of the stored and the new cutoff, and the longer expiry,
# in one atomic step: two concurrent writers can't move a cutoff backwards.
_RAISE_CUTOFF = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
end
return 1
"""


class RevocationListNotReady(redis.RedisError):
    """Redis answers but has lost the list (no ready marker): treat as unavailable."""


def session_key(session_id: str) -> str:
    """The revocation-list key that ends every access token of a session."""
    return SESSION_PREFIX + session_id


def user_cutoff_key(user_id: str) -> str:
    """The revocation-list key holding a user's token cutoff."""
    return USER_CUTOFF_PREFIX + user_id


def entry_ttl(access_ttl: int, leeway: int) -> int:
    """Seconds an entry must live: until the last token it revokes has expired."""
    return access_ttl + leeway + 1


class RevocationList:
    """Reads and writes the revocation list in Redis."""

    def __init__(self, client: redis.Redis, access_ttl: int, leeway: int):
        self._redis = client
        self._ttl = entry_ttl(access_ttl, leeway)
        self._raise_cutoff = client.register_script(_RAISE_CUTOFF)

    def is_revoked(self, claims: AccessClaims) -> bool:
        """True if the token's session ended or it predates its user's cutoff.

        Raises ``redis.RedisError`` when Redis can't answer or has lost the
        list: callers fail closed.
        """
        if claims.session_id is None:
            # Only an access token is checked here, and every one names its
            # session; claims without one (a personal access token's) fail closed.
            return True
        session_mark, cutoff = self._read_when_ready(
            session_key(claims.session_id), user_cutoff_key(claims.user_id)
        )
        revoked = session_mark is not None or (cutoff is not None and claims.issued_at < float(cutoff))
        metrics.count_token("revoked" if revoked else "ok", claims.token_id)
        return revoked

    def read_entry(self, key: str) -> str | None:
        """One more entry of the list (a personal access token's), in the same single ``MGET``.

        Fails closed like ``is_revoked``: ``redis.RedisError`` when Redis can't
        answer or has lost its data (the entry's absence would mean nothing).
        """
        return self._read_when_ready(key)[0]

    def _read_when_ready(self, *keys: str) -> list[str | None]:
        """The values of ``keys``, read with the ready marker in one ``MGET``; raises when not ready."""
        started = time.perf_counter()
        try:
            ready, *values = self._redis.mget(READY_KEY, *keys)
        except redis.RedisError:
            metrics.REVOCATION_FAIL_CLOSED.inc()
            raise
        metrics.REVOCATION_CHECK_SECONDS.observe(time.perf_counter() - started)
        if ready is None:
            metrics.REVOCATION_FAIL_CLOSED.inc()
            raise RevocationListNotReady("revocation list not rebuilt since Redis lost its data")
        # redis_client decodes responses: each value is a str or None (redis-py types it bytes | str).
        return cast(list[str | None], values)

    def write_entries(self, entries: list[tuple[str, str, int]]) -> None:
        """Set entries (key, value, seconds to live) in one round trip (personal access tokens)."""
        if entries:
            pipe = self._redis.pipeline(transaction=False)
            for key, value, ttl in entries:
                pipe.set(key, value, ex=ttl)
            pipe.execute()

    def delete_entries(self, keys: list[str]) -> None:
        """Delete entries (revoked personal access tokens); absent ones are fine."""
        if keys:
            self._redis.delete(*keys)

    def revoke_sessions(self, session_ids: list[str]) -> None:
        """Revoke every access token of these sessions."""
        if session_ids:
            self.restore_sessions([(session_id, self._ttl) for session_id in session_ids])

    def set_user_cutoff(self, user_id: str, cutoff: float, ttl: int | None = None) -> None:
        """Revoke every access token of the user issued before ``cutoff``."""
        self._raise_cutoff(keys=[user_cutoff_key(user_id)], args=[f"{cutoff:.3f}", ttl or self._ttl])

    def restore_sessions(self, entries: list[tuple[str, int]]) -> None:
        """Re-create session entries with the time each has left (a rebuild)."""
        pipe = self._redis.pipeline(transaction=False)
        for session_id, ttl in entries:
            pipe.set(session_key(session_id), "1", ex=ttl)
        pipe.execute()

    def server_run_id(self) -> str:
        """Redis's run id: it changes whenever Redis restarts."""
        run_id: str = self._redis.info("server")["run_id"]
        return run_id

    def mark_ready(self) -> None:
        """Record that the list is complete (after a rebuild from Postgres)."""
        self._redis.set(READY_KEY, f"{time.time():.3f}")

    def is_ready(self) -> bool:
        """True if the ready marker is there."""
        return self._redis.exists(READY_KEY) == 1

    def cutoff_now(self) -> float:
        """A cutoff for 'every token issued up to now', rounded up to the millisecond."""
        return math.ceil(time.time() * 1000) / 1000
