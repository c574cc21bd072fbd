"""gunicorn refuses to start on a missing or weak secret: exit 1, one clear line."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "JWT_SECRET is required"),
        ({"JWT_SECRET": "short"}, "JWT_SECRET must be at least 32 bytes long"),
        (
            {"JWT_KEYS": f"k1:{secrets.token_urlsafe(40)},k1:{secrets.token_urlsafe(40)}"},
            "JWT_KEYS has a key id twice",
        ),
    ],
)
def test_bad_secrets_stop_the_service(env, reason):
    result = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py"],
        cwd=SERVICE_DIR,
        env={"PATH": os.environ["PATH"], "BIND": "127.0.0.1:0"} | env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"refusing to start: {reason}" in result.stderr
    assert all(value not in result.stderr for value in env.values())
