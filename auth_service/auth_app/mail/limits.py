"""How often an address may be sent a reset link, or a user a verification link: counted in Redis.

A fixed window per key. The key of a reset request is the address asked
for, whether or not it belongs to anyone, so the limit answers the same
for every address and reveals nothing about which ones exist.
"""

import hashlib

import redis

from authcore.errors import TooManyRequests

PREFIX = "mail-requests:"
WINDOW_SECONDS = 900
MAX_PER_WINDOW = 5


class MailRequestLimits:
    """At most ``MAX_PER_WINDOW`` mail requests per key every ``WINDOW_SECONDS``."""

    def __init__(self, client: redis.Redis):
        self._redis = client

    def count(self, purpose: str, subject: str) -> None:
        """Count one request for ``subject`` (an address's ``normalise_email``, or a user id); 429 past it."""
        # Hashed: an email address is personal data and needn't sit in Redis in clear.
        key = PREFIX + purpose + ":" + hashlib.sha256(subject.encode("utf-8")).hexdigest()
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
        if count > MAX_PER_WINDOW:
            wait = ttl if ttl > 0 else WINDOW_SECONDS
            raise TooManyRequests(wait, "Too many mail requests for this; retry later.")
