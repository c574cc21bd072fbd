"""Fault-injection fixtures: stop, stall and kill parts of the running stack.

The suite drives the stack through ``STACK_CONTROL``, a command that takes
``stop S``, ``start S``, ``signal SIG S``, ``kill-worker S`` and
``redis-cli ARGS`` (`make test` sets it to the local runner). Without it a
bare pytest skips these tests and `make test` fails them (tests/stack_env.py).
"""

import shlex
import subprocess
import time

import pytest
import requests

from tests.stack_env import stack_setting


class StackControl:
    """Runs the stack's control command and waits for the stack to settle."""

    def __init__(self, command: list[str], base_url: str):
        self.command = command
        self.base_url = base_url

    def run(self, *args: str, timeout: float = 60) -> str:
        """Run one control command; fail the test if it fails or outlasts ``timeout`` seconds."""
        result = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def wait_healthy(self, timeout: float = 45, in_a_row: int = 10) -> None:
        """Wait until both health routes answer 200 ``in_a_row`` times running.

        Several in a row, because nginx spreads requests over the workers and
        each worker's Postgres pool reconnects on its own schedule (after a
        long outage, its backoff can reach several seconds).
        """
        deadline = time.monotonic() + timeout
        for path in ("/auth/healthz", "/api/healthz"):
            streak = 0
            while streak < in_a_row:
                try:
                    ok = requests.get(self.base_url + path, timeout=2).status_code == 200
                except requests.RequestException:
                    ok = False
                streak = streak + 1 if ok else 0
                assert time.monotonic() < deadline, f"{path} did not recover"
                if not ok:
                    time.sleep(0.1)


@pytest.fixture
def stack(base_url):
    """The stack under control; healthy again after each test, whatever the test did."""
    command = stack_setting("STACK_CONTROL")
    control = StackControl(shlex.split(command), base_url)
    control.wait_healthy()
    yield control
    for service in ("postgres", "redis"):
        subprocess.run([*control.command, "signal", "CONT", service], capture_output=True, timeout=30)
        subprocess.run([*control.command, "start", service], capture_output=True, timeout=60)
    control.wait_healthy()


def wait_for_status(call, status: int, timeout: float = 15, every: float = 0.1):
    """Repeat ``call`` until it answers ``status``; return that response."""
    deadline = time.monotonic() + timeout
    while True:
        response = call()
        if response.status_code == status:
            return response
        assert time.monotonic() < deadline, (response.status_code, response.text)
        time.sleep(every)
