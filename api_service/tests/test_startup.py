"""gunicorn refuses to start on a missing or weak secret: exit 1, one clear line."""

import json
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


def _start(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py"],
        cwd=SERVICE_DIR,
        env={"PATH": os.environ["PATH"], "BIND": "127.0.0.1:0"} | env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_under_eddsa_a_private_key_or_a_missing_public_set_stops_the_service(tmp_path):
    """api_service takes public keys only: a private set in JWT_PUBLIC_KEYS_FILE is refused."""
    from authcore import keys as key_sets

    private = tmp_path / "private.json"
    key_sets.write_json_file(private, key_sets.private_key_set((key_sets.generate_key("EdDSA", "a"),)), 0o600)
    refused = _start({"JWT_ALG": "EdDSA", "JWT_PUBLIC_KEYS_FILE": str(private)})
    assert refused.returncode == 1
    assert "refusing to start: JWT_PUBLIC_KEYS_FILE: key 'a' holds a private key" in refused.stderr
    assert json.loads(private.read_text())["keys"][0]["d"] not in refused.stderr
    missing = _start({"JWT_ALG": "EdDSA", "JWT_SECRET": secrets.token_urlsafe(48)})
    assert missing.returncode == 1
    assert "refusing to start: JWT_PUBLIC_KEYS_FILE is required when JWT_ALG=EdDSA" in missing.stderr
