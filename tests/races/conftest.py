"""The stack the race battery runs against: one with a real bcrypt window.

The suite's own stack hashes at ``BCRYPT_ROUNDS=4`` (about a millisecond),
which leaves a login almost no time to be raced and no burst to queue. When
the suite runs on the local runner (``STACK_CONTROL`` is ``python -m runner``),
these fixtures start another throw-away local stack (``BCRYPT_ROUNDS=10`` for
the race battery, 12 for login bursts) in its own state folder on free ports,
and stop it after the session. Anywhere else (the compose stack) the battery
runs through ``BASE_URL`` at that stack's cost and says so in its summary.
"""

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import pytest
import requests

RACE_BCRYPT_ROUNDS = 10
BURST_BCRYPT_ROUNDS = 12


@dataclass(frozen=True)
class RaceStack:
    """Where the battery sends its requests, and as whom it administers."""

    base_url: str
    admin_username: str
    admin_password: str
    description: str
    own: bool  # started for these tests, at the cost they asked for


def _local_runner_available() -> bool:
    return os.environ.get("STACK_CONTROL", "").strip().endswith("-m runner")


def _own_stack_environment(name: str, rounds: int) -> dict[str, str]:
    from runner.settings import ROOT, free_port, fresh_store_passwords

    return {
        "STATE_DIR": str(ROOT / ".state" / name),
        "HTTP_PORT": str(free_port()),
        "JWT_KEYS": f"{name}1:{secrets.token_urlsafe(48)}",
        **fresh_store_passwords(),
        "BCRYPT_ROUNDS": str(rounds),
        # The tests' own pace is the only traffic; nginx's per-address
        # limit would only turn racing requests into 429s.
        "AUTH_RATE_LIMIT": "2000r/s",
        # Logins with a password that just changed fail on purpose, round after round.
        "LOGIN_MAX_FAILURES": "1000",
        "ACCESS_TOKEN_TTL": "900",
        "REFRESH_TOKEN_TTL": "1209600",
    }


@contextlib.contextmanager
def own_stack(
    name: str, rounds: int, base_url: str, admin_credentials: dict, settings: dict | None = None
) -> Iterator[RaceStack]:
    """A throw-away local stack at bcrypt cost ``rounds`` with ``settings``; else BASE_URL's stack.

    BASE_URL's when the runner can't start one (the compose suite).
    """
    if not _local_runner_available():
        yield RaceStack(
            base_url,
            admin_credentials["username"],
            admin_credentials["password"],
            "BASE_URL (the stack's own BCRYPT_ROUNDS)",
            own=False,
        )
        return
    from runner import __main__ as stack_commands
    from runner import supervisor
    from runner.settings import load_stack_settings
    from runner.suite import create_admin

    with mock.patch.dict(os.environ, {**_own_stack_environment(name, rounds), **(settings or {})}):
        stack = load_stack_settings(new_ports=True)
        if supervisor.supervisord_pid(stack) is not None:
            stack_commands.cmd_down(stack)
        shutil.rmtree(stack.state_dir, ignore_errors=True)
        stack = load_stack_settings(new_ports=True)
        if stack_commands.cmd_up(stack) != 0:
            pytest.fail(f"the {name} stack did not start; see {stack.state_dir}/logs")
    try:
        admin = create_admin(stack)
        requests.get(stack.base_url + "/auth/healthz", timeout=10).raise_for_status()
        yield RaceStack(
            stack.base_url,
            admin["ADMIN_USERNAME"],
            admin["ADMIN_PASSWORD"],
            f"own local stack, BCRYPT_ROUNDS={rounds}",
            own=True,
        )
    finally:
        stack_commands.cmd_down(stack)


@pytest.fixture(scope="session")
def race_stack(base_url, admin_credentials):
    """A stack to race against: a fresh cost-10 local stack if the runner can start one."""
    with own_stack("races", RACE_BCRYPT_ROUNDS, base_url, admin_credentials) as stack:
        yield stack


@pytest.fixture(scope="session")
def burst_stack(base_url, admin_credentials):
    """A stack at the release cost (12), to see bursts of logins served and storms shed."""
    with own_stack("bursts", BURST_BCRYPT_ROUNDS, base_url, admin_credentials) as stack:
        yield stack


def pytest_terminal_summary(terminalreporter):
    """The race battery's table: stale tokens accepted per pair (zero is the only pass)."""
    from tests.races.tally import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("revocation races")
        for line in lines:
            terminalreporter.write_line(line)
