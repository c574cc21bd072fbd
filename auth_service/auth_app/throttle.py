"""Per-account login throttling: capped exponential backoff, counted in Redis.

Keyed by the normalised login name (known or not, so throttling reveals
nothing about which accounts exist). After ``max_failures`` failures in a
row, each further failure closes the account for 1, 2, 4, ... seconds, at
most ``MAX_BACKOFF_SECONDS``: guessing slows to a crawl, while the owner is
never locked out for long. Counting is one Lua script, so parallel attempts
are all counted. A success clears the count; 15 quiet minutes forget it.
"""

import hashlib
import math
import time

import redis

PREFIX = "login-failures:"
MAX_BACKOFF_SECONDS = 60
FORGET_AFTER_SECONDS = 900

# KEYS[1] = counter hash; ARGV = now, max_failures, cap, forget_after.
# Returns the new closed-until time (0 if still open).
_RECORD_FAILURE = """
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local closed_until = 0
local over = count - tonumber(ARGV[2])
if over >= 0 then
  closed_until = tonumber(ARGV[1]) + math.min(tonumber(ARGV[3]), 2 ^ over)
  redis.call('HSET', KEYS[1], 'closed_until', closed_until)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return tostring(closed_until)
"""


def _key(login: str) -> str:
    # Hashed: a login name is personal data and needn't sit in Redis in clear.
    return PREFIX + hashlib.sha256(login.encode("utf-8")).hexdigest()


class LoginThrottle:
    """Tracks failed logins per account."""

    def __init__(self, client: redis.Redis, max_failures: int):
        self._redis = client
        self._max_failures = max_failures
        self._record_failure = client.register_script(_RECORD_FAILURE)

    def retry_after(self, login: str) -> int:
        """Seconds until ``login`` may try again (0: it may try now)."""
        closed_until = self._redis.hget(_key(login), "closed_until")
        if closed_until is None:
            return 0
        return max(0, math.ceil(float(closed_until) - time.time()))

    def record_failure(self, login: str) -> None:
        """Count one failed attempt (atomically, parallel attempts included)."""
        self._record_failure(
            keys=[_key(login)],
            args=[f"{time.time():.3f}", self._max_failures, MAX_BACKOFF_SECONDS, FORGET_AFTER_SECONDS],
        )

    def record_success(self, login: str) -> None:
        """Forget the failures of ``login``."""
        self._redis.delete(_key(login))
