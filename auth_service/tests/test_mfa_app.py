"""Second factors in-process (Flask test client) against the real Postgres and Redis.

What the stack tests can't set per test: MFA_REQUIRED_ROLES, and a MFA_KEY
that no longer opens the stored secrets.
"""

import dataclasses
import hashlib
import logging
import secrets
import uuid
from datetime import UTC, datetime

import jwt
import psycopg
import pyotp
import pytest

from auth_app import store
from auth_app.app import create_app
from auth_app.factors.secret_box import parse_keys
from auth_app.passwords import hash_password

PASSWORD = "mfa app password"


@pytest.fixture
def admin_user(database_url):
    name = "m-" + secrets.token_hex(5)
    with psycopg.connect(database_url, autocommit=True) as conn:
        store.insert_user(conn, name, f"{name}@example.com", hash_password(PASSWORD, 4), roles=("admin",))
    return name


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _enable_totp(client, name: str) -> str:
    """TOTP on for ``name``; its secret. The step after the confirm's is the next one to use."""
    token = client.post("/auth/login", json={"username": name, "password": PASSWORD}).get_json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    secret = client.post("/auth/mfa/totp", json={"password": PASSWORD}, headers=auth).get_json()["secret"]
    confirm = client.post("/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=auth)
    assert confirm.status_code == 200, confirm.get_json()
    return secret


def _next_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + 1)


def test_mfa_required_roles_leave_a_password_only_token_without_them(settings, admin_user):
    app = create_app(
        dataclasses.replace(settings, mfa_required_roles=frozenset({"admin"})), 2, background=False
    )
    try:
        client = app.test_client()
        login = client.post("/auth/login", json={"username": admin_user, "password": PASSWORD}).get_json()
        assert _claims(login["access_token"])["roles"] == []
        assert _claims(login["access_token"])["amr"] == ["pwd"]
        secret = _enable_totp(client, admin_user)
        step = client.post("/auth/login", json={"username": admin_user, "password": PASSWORD}).get_json()
        assert step["mfa_required"] is True and "access_token" not in step
        done = client.post(
            "/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": _next_code(secret)}
        )
        assert done.status_code == 200, done.get_json()
        claims = _claims(done.get_json()["access_token"])
        assert claims["roles"] == ["admin"] and claims["amr"] == ["mfa", "otp", "pwd"]
        # A refresh keeps the session's amr, and so its roles.
        again = client.post("/auth/refresh", json={"refresh_token": done.get_json()["refresh_token"]})
        assert _claims(again.get_json()["access_token"])["roles"] == ["admin"]
    finally:
        app.extensions["pool"].close()


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_a_key_that_cannot_open_the_secret_is_logged_and_answered_503(settings, admin_user):
    lines = _Lines()
    logging.getLogger("auth_app.factors.secret_box").addHandler(lines)
    first = create_app(settings, 2, background=False)
    other_key = parse_keys(secrets.token_urlsafe(32))
    second = create_app(dataclasses.replace(settings, mfa_keys=other_key), 2, background=False)
    try:
        secret = _enable_totp(first.test_client(), admin_user)
        client = second.test_client()
        step = client.post("/auth/login", json={"username": admin_user, "password": PASSWORD}).get_json()
        answer = client.post(
            "/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": _next_code(secret)}
        )
        assert answer.status_code == 503
        assert answer.get_json()["error"] == "unavailable" and answer.headers["Retry-After"]
        assert any("does not decrypt with any MFA_KEY" in line for line in lines.lines), lines.lines
        assert not any(secret in line for line in lines.lines)
        # Nothing was used up: with the right key the same step still works.
        ok = first.test_client().post(
            "/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": _next_code(secret)}
        )
        assert ok.status_code == 200, ok.get_json()
        assert uuid.UUID(_claims(ok.get_json()["access_token"])["sid"])
    finally:
        logging.getLogger("auth_app.factors.secret_box").removeHandler(lines)
        first.extensions["pool"].close()
        second.extensions["pool"].close()


def test_after_a_key_rotation_a_secret_is_sealed_again_under_the_new_key_at_its_next_use(
    settings, admin_user, database_url
):
    old = settings.mfa_keys
    new = parse_keys(secrets.token_urlsafe(32))
    first = create_app(settings, 2, background=False)
    rotated = create_app(dataclasses.replace(settings, mfa_keys=new + old), 2, background=False)
    try:
        secret = _enable_totp(first.test_client(), admin_user)
        client = rotated.test_client()
        step = client.post("/auth/login", json={"username": admin_user, "password": PASSWORD}).get_json()
        done = client.post(
            "/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": _next_code(secret)}
        )
        assert done.status_code == 200, done.get_json()
        with psycopg.connect(database_url, autocommit=True) as conn:
            blob = conn.execute(
                "SELECT t.secret_encrypted FROM mfa_totp t JOIN users u ON u.id = t.user_id"
                " WHERE u.username = %s",
                (admin_user,),
            ).fetchone()[0]
        assert bytes(blob)[1:5] == hashlib.sha256(new[0]).digest()[:4]  # the new key's id
    finally:
        first.extensions["pool"].close()
        rotated.extensions["pool"].close()
