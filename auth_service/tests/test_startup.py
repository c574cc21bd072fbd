"""gunicorn refuses to start on bad settings or without a database: exit 1, one clear line."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def start(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "BIND": "127.0.0.1:0"}
    return subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py"],
        cwd=SERVICE_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "JWT_SECRET is required"),
        ({"JWT_SECRET": "too-short-secret"}, "JWT_SECRET must be at least 32 bytes long"),
        ({"JWT_SECRET": "a" * 40}, "JWT_SECRET is a placeholder or has too little variety"),
        ({"JWT_KEYS": "k1"}, "JWT_KEYS entries must look like kid:secret"),
        ({"JWT_SECRET": secrets.token_urlsafe(40)}, "DATABASE_URL is required"),
        (
            {"JWT_SECRET": secrets.token_urlsafe(40), "BCRYPT_ROUNDS": "3"},
            "BCRYPT_ROUNDS must be between 4 and 16",
        ),
        ({"JWT_SECRET": secrets.token_urlsafe(40)}, "MFA_KEY is required"),
        (
            {"JWT_SECRET": secrets.token_urlsafe(40), "MFA_KEY": secrets.token_urlsafe(16)},
            "MFA_KEY keys must be 32 bytes",
        ),
        (
            {"JWT_SECRET": secrets.token_urlsafe(40), "MFA_KEY_FILE": "/nonexistent/mfa_key"},
            "MFA_KEY_FILE names a file that can't be read",
        ),
    ],
)
def test_bad_settings_stop_the_service(env, reason):
    result = start(
        {"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db"} | env if "DATABASE_URL" not in reason else env
    )
    assert result.returncode == 1
    assert f"refusing to start: {reason}" in result.stderr
    for value in env.values():
        assert value not in result.stderr or len(value) < 4  # secrets never printed


def test_an_unreachable_database_stops_the_service():
    result = start(
        {
            "JWT_SECRET": secrets.token_urlsafe(40),
            "MFA_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db",
        }
    )
    assert result.returncode == 1
    assert "refusing to start: cannot reach the database at DATABASE_URL" in result.stderr


def test_an_unusable_private_key_set_stops_the_service_naming_the_setting(tmp_path):
    """Missing, of the wrong type for JWT_ALG, or with one kid twice: one line, no key material."""
    from authcore import keys as key_sets

    es256 = tmp_path / "es256.json"
    key_sets.write_json_file(es256, key_sets.private_key_set((key_sets.generate_key("ES256", "a"),)), 0o600)
    twice = tmp_path / "twice.json"
    pair = key_sets.generate_key("EdDSA", "a")
    key_sets.write_json_file(twice, key_sets.private_key_set((pair, pair)), 0o600)
    cases = {
        str(tmp_path / "absent.json"): "JWT_PRIVATE_KEYS_FILE names a file that can't be read",
        str(es256): "JWT_PRIVATE_KEYS_FILE: key 'a' is not a OKP Ed25519 key, as JWT_ALG=EdDSA needs",
        str(twice): "JWT_PRIVATE_KEYS_FILE has two keys with one kid",
    }
    for path, reason in cases.items():
        result = start(
            {
                "JWT_ALG": "EdDSA",
                "JWT_PRIVATE_KEYS_FILE": path,
                "DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
            }
        )
        assert result.returncode == 1, path
        assert f"refusing to start: {reason}" in result.stderr, result.stderr
        assert '"d"' not in result.stderr
