"""The one Redis client each process uses, built to fail fast."""

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A stalled Redis must turn into a 503 within about a second, not hang a
# worker: redis-py 8 otherwise waits 5 s per try and retries 10 times with
# backoff. One immediate retry on a dropped connection covers a Redis that
# restarted since the pooled connection was opened.
SOCKET_TIMEOUT_SECONDS = 0.4


def make_redis(url: str, password: str | None = None) -> redis.Redis:
    """A Redis client for ``url`` with short timeouts and a single quick retry.

    ``url`` names the ACL user (``redis://user@host:port/0``); ``password``
    comes from a setting apart, so it never has to be URL-encoded.
    """
    return redis.Redis.from_url(
        url,
        **({"password": password} if password else {}),
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        health_check_interval=0,
        decode_responses=True,
    )
