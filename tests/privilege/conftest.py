"""Least-privilege fixtures: run code as a part of the stack runs, or as an outsider.

Through ``STACK_CONTROL`` (see tests/faults/conftest.py), with three more
commands: ``service-exec S CMD...`` runs CMD with service S's settings as
its OS user (locally) or inside its container (compose); ``client-exec
CMD...`` runs CMD where a client of the stack is (an unprivileged user
locally; the tests container, on the client network only, in compose);
``service-address S`` prints where S listens.
"""

import json
import shlex
import subprocess

import pytest

from tests.stack_env import stack_setting


class Privileges:
    """Runs probes as the stack's parts and as an outsider."""

    def __init__(self, command: list[str]):
        self.command = command

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one control command."""
        result = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def probe(self, where: str, service: str | None, code: str, *args: str) -> dict:
        """Run a Python probe (as ``service``, or as a client) and return the JSON it prints last."""
        prefix = ("service-exec", service) if where == "service" else ("client-exec",)
        output = self.run(*prefix, "python3" if where == "client" else "python", "-c", code, *args).stdout
        return json.loads(output.strip().splitlines()[-1])


@pytest.fixture
def privileges() -> Privileges:
    """The stack's control command, for privilege probes (tests/stack_env.py: skip or fail without it)."""
    return Privileges(shlex.split(stack_setting("STACK_CONTROL")))
