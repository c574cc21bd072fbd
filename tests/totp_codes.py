"""Authentication codes computed outside the code under test: Debian's ``oathtool``.

The secret is read back from the ``otpauth_uri`` the stack returned, as an
authenticator app reads it from the QR code. ``steps_ahead`` asks for the
code of a later 30-second step: the stack accepts one step of skew, and a
code is taken once, so a second use within one step needs the next step's code.
"""

import shutil
import subprocess
import time
from urllib.parse import parse_qs, urlparse

import pytest

STEP_SECONDS = 30


def secret_of(otpauth_uri: str) -> str:
    """The base32 secret of an ``otpauth://totp/...`` URI (checking the parameters apps assume)."""
    parsed = urlparse(otpauth_uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp", otpauth_uri
    query = parse_qs(parsed.query)
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]
    return query["secret"][0]


def oathtool_code(otpauth_uri: str, steps_ahead: int = 0) -> str:
    """The 6-digit code of the URI's secret ``steps_ahead`` steps from now, by oathtool."""
    if shutil.which("oathtool") is None:
        pytest.fail("oathtool is missing: `make deps` installs it (Debian package oathtool)")
    at = int(time.time()) + steps_ahead * STEP_SECONDS
    result = subprocess.run(
        ["oathtool", "--totp", "--base32", f"--now=@{at}", secret_of(otpauth_uri)],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return result.stdout.strip()


def wrong_code(otpauth_uri: str) -> str:
    """A 6-digit code that is none of the ones the stack accepts now (the current step and its neighbours)."""
    accepted = {oathtool_code(otpauth_uri, steps_ahead=offset) for offset in (-2, -1, 0, 1, 2)}
    return next(
        code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in accepted
    )
