"""Password hashing with bcrypt, a timing-equal check for unknown users, and a bounded wait for both.

bcrypt holds a core for ~0.25 s at cost 12, so checks beyond the cores can
only queue. Each worker process runs one bcrypt at a time (gunicorn runs
one worker per core, ``WEB_WORKERS``, so the bound is the cores of each
replica). A check waits for its turn while its expected wait stays under
``PASSWORD_QUEUE_DEADLINE``: a burst of logins is served, not refused.
Beyond that it is answered 429 at once, with a ``Retry-After`` computed
from the queue: a storm is shed instead of piling up work for clients that
have given up by the time it runs.

The expected wait is the time the request already spent queued before it
reached this process (nginx's ``X-Request-Start``), plus the checks ahead
of it times the measured mean time of one check.
"""

import functools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import bcrypt

from auth_app.request_timing import seconds_queued
from authcore import metrics
from authcore.errors import TooManyRequests

DEFAULT_DEADLINE_SECONDS = 2.0
# Weight of the newest check in the running mean: follows a change of load
# (or of BCRYPT_ROUNDS) within a few checks, without jumping on one outlier.
MEAN_WEIGHT = 0.2


class PasswordQueue:
    """The bcrypt slots of one process and the checks waiting for them."""

    def __init__(self, slots: int = 1, deadline: float = DEFAULT_DEADLINE_SECONDS):
        self._slots = slots
        self.deadline = deadline
        self._lock = threading.Lock()
        self._turn = threading.Semaphore(slots)
        self._queued = 0  # checks running or waiting in this process
        self._mean: float | None = None  # seconds per check, once one was measured

    def expected_wait(self, ahead: int) -> float:
        """Seconds until ``ahead`` queued checks have run, at the measured pace."""
        return ahead * (self._mean or 0.0) / self._slots

    @contextmanager
    def turn(self, queued_before: float, operation: str = "check") -> Iterator[None]:
        """Wait for a bcrypt slot, or raise 429 if the wait would pass the deadline.

        ``queued_before``: seconds the request already waited before it got here;
        ``operation`` (hash or check) labels the time it took in the metrics.
        """
        with self._lock:
            wait = self.expected_wait(self._queued)
            if queued_before + wait > self.deadline:
                metrics.PASSWORD_SLOT_REFUSALS.inc()
                raise TooManyRequests(max(1, math.ceil(wait)))
            self._queued += 1
        try:
            waiting_since = time.perf_counter()
            # The estimate can be wrong (a sudden load): never wait far past the deadline.
            if not self._turn.acquire(timeout=self.deadline + (self._mean or 0.0)):
                metrics.PASSWORD_SLOT_REFUSALS.inc()
                raise TooManyRequests(max(1, math.ceil(self.expected_wait(self._queued))))
            try:
                started = time.perf_counter()
                metrics.PASSWORD_SLOT_WAIT_SECONDS.observe(started - waiting_since)
                yield
                elapsed = time.perf_counter() - started
                self._record(elapsed)
                metrics.PASSWORD_HASH_SECONDS.labels(operation=operation).observe(elapsed)
            finally:
                self._turn.release()
        finally:
            with self._lock:
                self._queued -= 1

    def _record(self, seconds: float) -> None:
        with self._lock:
            self._mean = seconds if self._mean is None else self._mean + MEAN_WEIGHT * (seconds - self._mean)


queue = PasswordQueue()


def configure(deadline: float) -> None:
    """Set this process's ``PASSWORD_QUEUE_DEADLINE`` (seconds)."""
    queue.deadline = deadline


def hash_password(password: str, rounds: int) -> str:
    """A bcrypt hash of ``password`` at cost ``rounds`` (429 if the queue is too long)."""
    with queue.turn(seconds_queued(), "hash"):
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True if ``password`` matches ``password_hash`` (429 if the queue is too long).

    With no hash (unknown user) a dummy hash of the same cost is checked, so
    an unknown user and a wrong password take the same time.
    """
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        candidate = b""  # bcrypt 5 raises on >72 bytes; such a password never matched
    target = (password_hash or _dummy_hash(rounds)).encode("ascii")
    with queue.turn(seconds_queued(), "check"):
        return bcrypt.checkpw(candidate, target) and password_hash is not None


def hash_cost(password_hash: str) -> int | None:
    """The cost a bcrypt hash was made with (``$2b$12$...`` -> 12); None if unreadable."""
    parts = password_hash.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(b"not-a-real-password-just-for-timing", bcrypt.gensalt(rounds)).decode("ascii")
