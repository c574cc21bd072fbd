"""bcrypt slots shared by the worker processes of a replica (real processes, real flocks)."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from auth_app.password_slots import PasswordQueue, ReplicaSlots
from authcore.errors import TooManyRequests

HOLD_A_SLOT = textwrap.dedent(
    """
    import sys, time
    from auth_app.password_slots import ReplicaSlots
    slots = ReplicaSlots(sys.argv[1], int(sys.argv[2]))
    assert slots.acquire(timeout=5) is not None
    print("held", flush=True)
    time.sleep(60)
    """
)


@contextmanager
def held_in_another_process(directory, count: int) -> Iterator[subprocess.Popen]:
    """A process holding one of ``count`` slots in ``directory`` until it is killed."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SLOT, str(directory), str(count)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout.readline().strip() == "held"
            yield holder
        finally:
            holder.kill()


def test_a_slot_held_by_another_process_is_taken_and_a_killed_holder_frees_it(tmp_path):
    slots = ReplicaSlots(str(tmp_path), 1)
    with held_in_another_process(tmp_path, 1) as holder:
        started = time.monotonic()
        assert slots.acquire(timeout=0.2) is None
        assert time.monotonic() - started >= 0.2
        holder.send_signal(signal.SIGKILL)  # a worker killed mid-check
        holder.wait()
        token = slots.acquire(timeout=2)
        assert token is not None
        slots.release(token)


def test_a_process_may_use_every_slot_no_other_process_holds(tmp_path):
    slots = ReplicaSlots(str(tmp_path), 3)
    taken, all_tried = [], threading.Barrier(3)

    def take():
        taken.append(slots.acquire(timeout=0.5))
        all_tried.wait(5)  # a thread's slot is kept until it ends

    with held_in_another_process(tmp_path, 3):
        threads = [threading.Thread(target=take) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # Two threads of this process got a slot at once; the third found none.
    assert sorted(token is None for token in taken) == [False, False, True]
    # A thread's files close when it ends: its slot is free again.
    token = slots.acquire(timeout=1)
    assert token is not None
    slots.release(token)


def test_a_queue_on_shared_slots_waits_for_one_and_refuses_past_its_deadline(tmp_path):
    queue = PasswordQueue(slots=1, deadline=0.3)
    queue.share_slots(ReplicaSlots(str(tmp_path), 1))
    with held_in_another_process(tmp_path, 1):
        started = time.monotonic()
        with pytest.raises(TooManyRequests), queue.turn(0.0):
            pass
        assert time.monotonic() - started >= 0.3  # it waited up to the deadline first
    with queue.turn(0.0):
        pass  # free again once the holder is gone
    assert sorted(os.listdir(tmp_path)) == ["slot-0"]
