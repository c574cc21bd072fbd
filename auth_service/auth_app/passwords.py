"""Password hashing with bcrypt, a timing-equal check for unknown users, and a bound on both.

bcrypt holds a core for ~0.3 s at cost 12, so checks beyond the cores can
only queue: every accepted login waits longer, and the queue keeps burning
CPU for clients that already gave up (measured: 8 s waits, 11 s of CPU after
a storm). So each worker process runs one bcrypt at a time and answers 429
at once beyond it. gunicorn runs one worker per core (``WEB_WORKERS``), so
the bound is the cores of each replica and grows as replicas are added.
"""

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import bcrypt

from authcore import metrics
from authcore.errors import TooManyRequests

_bcrypt_slot = threading.BoundedSemaphore(1)


@contextmanager
def _bcrypt_turn(operation: str) -> Iterator[None]:
    waiting_since = time.perf_counter()
    if not _bcrypt_slot.acquire(blocking=False):
        metrics.PASSWORD_SLOT_REFUSALS.inc()
        raise TooManyRequests(1)
    started = time.perf_counter()
    metrics.PASSWORD_SLOT_WAIT_SECONDS.observe(started - waiting_since)
    try:
        yield
    finally:
        _bcrypt_slot.release()
        metrics.PASSWORD_HASH_SECONDS.labels(operation=operation).observe(time.perf_counter() - started)


def hash_password(password: str, rounds: int) -> str:
    """A bcrypt hash of ``password`` at cost ``rounds`` (429 if this worker is busy hashing)."""
    with _bcrypt_turn("hash"):
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True if ``password`` matches ``password_hash`` (429 if this worker is busy hashing).

    With no hash (unknown user) a dummy hash of the same cost is checked, so
    an unknown user and a wrong password take the same time.
    """
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        candidate = b""  # bcrypt 5 raises on >72 bytes; such a password never matched
    target = (password_hash or _dummy_hash(rounds)).encode("ascii")
    with _bcrypt_turn("check"):
        return bcrypt.checkpw(candidate, target) and password_hash is not None


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return hash_password("not-a-real-password-just-for-timing", rounds)
