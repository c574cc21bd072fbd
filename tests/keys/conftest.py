"""A second throw-away stack that signs with EdDSA, for the tests of this folder.

Like tests/races/conftest.py's stacks: when the suite runs on the local
runner (``STACK_CONTROL`` is ``python -m runner``) a fresh local stack with
``JWT_ALG=EdDSA`` starts in its own state folder on free ports, with no key
file named, so the runner generates one (runner/signing_keys.py), and with
``JWT_KEYS`` set all the same, to show api_service never receives it. It
stops after the session. Anywhere else (the compose stack) these tests are
skipped: that stack's JWT_ALG is its own.
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

from tests.helpers import Api


@dataclass(frozen=True)
class KeyStack:
    """The EdDSA stack: its URL, its admin, and the runner's view of it (for process checks)."""

    base_url: str
    admin_username: str
    admin_password: str
    stack: object  # runner.settings.StackSettings


def _local_runner_available() -> bool:
    return os.environ.get("STACK_CONTROL", "").strip().endswith("-m runner")


def eddsa_environment() -> dict[str, str]:
    """The EdDSA stack's settings: fresh secrets (a JWT_KEYS too, which must go nowhere but unused)."""
    from runner.settings import ROOT, free_port, fresh_store_passwords

    return {
        "STATE_DIR": str(ROOT / ".state" / "eddsa"),
        "HTTP_PORT": str(free_port()),
        "JWT_ALG": "EdDSA",
        "JWT_KEYS": f"hs1:{secrets.token_urlsafe(48)}",
        **fresh_store_passwords(),
        "BCRYPT_ROUNDS": "4",
        "AUTH_RATE_LIMIT": "200r/s",
        "LOGIN_MAX_FAILURES": "50",
        "ACCESS_TOKEN_TTL": "900",
        "REFRESH_TOKEN_TTL": "1209600",
        "APP_ROLE": "",
    }


@contextlib.contextmanager
def eddsa_stack_running() -> Iterator[KeyStack]:
    """Start the EdDSA stack, yield it, stop it."""
    from runner import __main__ as stack_commands
    from runner import supervisor
    from runner.settings import load_stack_settings
    from runner.suite import create_admin

    environment = eddsa_environment()
    with mock.patch.dict(os.environ, environment):
        # A key file named in a developer's .env must not leak in: the runner generates one.
        os.environ.pop("JWT_PRIVATE_KEYS_FILE", None)
        stack = load_stack_settings(new_ports=True)
        stack.env.pop("JWT_PRIVATE_KEYS_FILE", None)
        if supervisor.supervisord_pid(stack) is not None:
            stack_commands.cmd_down(stack)
        shutil.rmtree(stack.state_dir, ignore_errors=True)
        stack = load_stack_settings(new_ports=True)
        stack.env.pop("JWT_PRIVATE_KEYS_FILE", None)
        if stack_commands.cmd_up(stack) != 0:
            pytest.fail(f"the EdDSA stack did not start; see {stack.state_dir}/logs")
    try:
        admin = create_admin(stack)
        requests.get(stack.base_url + "/auth/healthz", timeout=10).raise_for_status()
        yield KeyStack(stack.base_url, admin["ADMIN_USERNAME"], admin["ADMIN_PASSWORD"], stack)
    finally:
        stack_commands.cmd_down(stack)


@pytest.fixture(scope="session")
def eddsa_stack():
    """The EdDSA stack (local runner only; skipped elsewhere)."""
    if not _local_runner_available():
        pytest.skip("the EdDSA stack is started by the local runner (make test) only")
    with eddsa_stack_running() as stack:
        yield stack


@pytest.fixture
def eddsa_api(eddsa_stack):
    """An HTTP client for the EdDSA stack."""
    with requests.Session() as session:
        yield Api(eddsa_stack.base_url, session)


@pytest.fixture
def eddsa_user(eddsa_api):
    """A fresh user of the EdDSA stack, logged in: signup fields plus the token response."""
    user = eddsa_api.create_user()
    return {**user, **eddsa_api.login(user["username"], user["password"])}
