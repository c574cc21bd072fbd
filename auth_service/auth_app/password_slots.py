"""The bcrypt slots: how many hashes and checks run at once, and how long one may wait.

bcrypt holds a core for ~0.25 s at cost 12, so checks beyond the cores can
only queue. A replica runs at most one bcrypt per worker process at a time
(gunicorn runs one worker per core, ``WEB_WORKERS``, so the bound is the
cores of each replica), and its workers share those slots: nginx spreads
requests over the workers unevenly, and a worker with three checks queued
runs two of them at once while another worker has none. A check waits for a
slot while its expected wait stays under ``PASSWORD_QUEUE_DEADLINE``: a
burst of logins is served, not refused. Beyond that it is answered 429 at
once, with a ``Retry-After`` computed from the queue: a storm is shed
instead of piling up work for clients that have given up by the time it runs.

The expected wait is the time the request already spent queued before it
reached this process (nginx's ``X-Request-Start``), plus the checks queued
in this process ahead of it times the measured mean time of one check: as if
this worker had one slot to itself, which it has at least on average.
"""

import fcntl
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from authcore import metrics
from authcore.errors import TooManyRequests

DEFAULT_DEADLINE_SECONDS = 2.0
# Weight of the newest check in the running mean: follows a change of load
# (or of BCRYPT_ROUNDS) within a few checks, without jumping on one outlier.
MEAN_WEIGHT = 0.2


class ProcessSlots:
    """Slots for one process alone (a semaphore): unit tests, an app outside gunicorn."""

    def __init__(self, count: int):
        self._semaphore = threading.Semaphore(count)

    def acquire(self, timeout: float) -> int | None:
        """Take a slot within ``timeout`` seconds; a token for ``release`` (always 0), or None."""
        return 0 if self._semaphore.acquire(timeout=timeout) else None

    def release(self, token: int) -> None:
        """Give the slot back."""
        self._semaphore.release()


class ReplicaSlots:
    """Slots shared by the worker processes of one replica: an exclusive flock on one of N files.

    The kernel drops a flock with the last descriptor of its open file, so a
    worker killed mid-check frees its slot (a semaphore in shared memory
    would stay taken for good). A flock belongs to an open file, not to a
    thread, so each thread opens the files for itself.
    """

    POLL_SECONDS = 0.005  # a slot freed is taken within this; a check takes ~250 ms

    def __init__(self, directory: str, count: int):
        self.paths = [os.path.join(directory, f"slot-{index}") for index in range(count)]
        self._local = threading.local()

    def _files(self) -> list[int]:
        files = getattr(self._local, "files", None)
        if files is None:
            files = self._local.files = _OpenFiles(self.paths)
        return files.descriptors

    def acquire(self, timeout: float) -> int | None:
        """Lock a free slot's file within ``timeout`` seconds; its descriptor, or None."""
        give_up = time.monotonic() + timeout
        files = self._files()
        while True:
            for descriptor in files:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return descriptor
                except BlockingIOError:
                    continue
            if time.monotonic() >= give_up:
                return None
            time.sleep(self.POLL_SECONDS)

    def release(self, token: int) -> None:
        """Unlock the slot's file."""
        fcntl.flock(token, fcntl.LOCK_UN)


class _OpenFiles:
    """One thread's descriptors of the slot files, closed (and any lock dropped) when the thread ends."""

    def __init__(self, paths: list[str]):
        self.descriptors = [os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in paths]

    def __del__(self) -> None:
        for descriptor in self.descriptors:
            os.close(descriptor)


class PasswordQueue:
    """The checks of one process waiting for a bcrypt slot, and the slots."""

    def __init__(self, slots: int = 1, deadline: float = DEFAULT_DEADLINE_SECONDS):
        self._slots = slots
        self.deadline = deadline
        self._lock = threading.Lock()
        self._turn: ProcessSlots | ReplicaSlots = ProcessSlots(slots)
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
            # The estimate can be wrong (a sudden load, or the other workers'
            # checks taking the shared slots first): never wait past the deadline,
            # counting the time queued before, so no accepted check waits longer.
            slot = self._turn.acquire(timeout=max(0.0, self.deadline - queued_before))
            if slot is None:
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
                self._turn.release(slot)
        finally:
            with self._lock:
                self._queued -= 1

    def share_slots(self, slots: ReplicaSlots) -> None:
        """Take turns on slots shared with the other worker processes of this replica."""
        self._turn = slots

    def _record(self, seconds: float) -> None:
        with self._lock:
            self._mean = seconds if self._mean is None else self._mean + MEAN_WEIGHT * (seconds - self._mean)


queue = PasswordQueue()


def configure(deadline: float) -> None:
    """Set this process's ``PASSWORD_QUEUE_DEADLINE`` (seconds)."""
    queue.deadline = deadline


def share_slots_between_workers(directory: str, workers: int) -> None:
    """In the gunicorn master, before any fork: the workers will share ``workers`` slots.

    ``directory`` (private to the service's user) holds one lock file per slot.
    """
    queue.share_slots(ReplicaSlots(directory, workers))
