"""Reading what the stack's mail sink received, as a user reads their inbox.

``MAIL_SINK_DIR`` (the local test stack, and the compose ``tests`` service,
which mounts the sink's volume) names the sink's folder; without it the
``STACK_CONTROL`` command's ``mail`` subcommand prints the messages (the
compose fault tests, run from the host). Neither: the test fails loudly.
"""

import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_-]{43})\b")


def all_mail() -> list[dict]:
    """Every message the sink holds, oldest first: dicts with ``to``, ``subject``, ``body``."""
    directory = os.environ.get("MAIL_SINK_DIR")
    if directory:
        path = Path(directory, "messages.jsonl")
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    control = os.environ.get("STACK_CONTROL")
    if not control:
        pytest.fail("neither MAIL_SINK_DIR nor STACK_CONTROL is set: the tests can't read the mail sink")
    command = [*shlex.split(control), "mail", "--format", "json", "--last", "100000"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def mail_to(address: str, subject: str | None = None) -> list[dict]:
    """The messages to ``address`` (any case), optionally only those with ``subject``."""
    wanted = address.casefold()
    return [
        message
        for message in all_mail()
        if wanted in (to.strip().casefold() for to in message["to"].split(","))
        and (subject is None or message["subject"] == subject)
    ]


def wait_for_mail(address: str, subject: str, count: int = 1, timeout: float = 30) -> dict:
    """Wait until ``count`` messages with ``subject`` reached ``address``; the newest."""
    deadline = time.monotonic() + timeout
    while True:
        found = mail_to(address, subject)
        if len(found) >= count:
            return found[-1]
        assert time.monotonic() < deadline, f"{count} mail(s) {subject!r} to {address} did not arrive"
        time.sleep(0.2)


def token_in(message: dict) -> str:
    """The token of the link in a message."""
    match = TOKEN_IN_LINK.search(message["body"])
    assert match, message["body"]
    return match.group(1)


RESET_SUBJECT = "Reset your password"
VERIFY_SUBJECT = "Confirm your email address"
CHANGED_SUBJECT = "Your password was changed"
NEW_DEVICE_SUBJECT = "New sign-in to your account"
