"""SESSION_MAX_LIFETIME: no refresh that long after the login, whatever the rotation; PUBLIC_URL's scheme."""

import base64
import secrets

import pytest

from auth_app.mail.settings import load_mail_settings
from auth_app.refresh_tokens import hash_refresh_token
from auth_app.settings import load_settings
from authcore.settings import SettingsError


def _login(client) -> dict:
    name = "s-" + secrets.token_hex(5)
    body = {"username": name, "email": f"{name}@example.com", "password": "password-1"}
    assert client.post("/auth/signup", json=body).status_code == 201
    response = client.post("/auth/login", json={"username": name, "password": "password-1"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _session_id(app, refresh_token: str):
    with app.extensions["pool"].connection() as conn:
        return conn.execute(
            "SELECT session_id FROM refresh_tokens WHERE token_hash = %s",
            (hash_refresh_token(refresh_token),),
        ).fetchone()[0]


def test_refresh_stops_at_the_maximum_lifetime_whatever_the_rotation(app, client, settings):
    tokens = _login(client)
    session_id = _session_id(app, tokens["refresh_token"])
    rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    # The session began 31 days ago (default maximum: 30), its refresh token is fresh.
    with app.extensions["pool"].connection() as conn:
        conn.execute(
            "UPDATE sessions SET created_at = now() - interval '31 days' WHERE id = %s", (session_id,)
        )
    refused = client.post("/auth/refresh", json={"refresh_token": rotated.get_json()["refresh_token"]})
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_token"


def test_a_rotation_near_the_end_gets_only_what_is_left(app, client):
    tokens = _login(client)
    session_id = _session_id(app, tokens["refresh_token"])
    with app.extensions["pool"].connection() as conn:
        conn.execute(
            "UPDATE sessions SET created_at = now() - interval '30 days' + interval '1 hour' WHERE id = %s",
            (session_id,),
        )
    rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    assert 0 < rotated.get_json()["refresh_expires_in"] <= 3600


def test_session_max_lifetime_setting():
    base = {
        "JWT_SECRET": secrets.token_urlsafe(48),
        "MFA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": "postgresql://x@127.0.0.1/x",
    }
    assert load_settings(base).session_max_lifetime == 30 * 24 * 3600
    assert load_settings({**base, "SESSION_MAX_LIFETIME": "86400"}).session_max_lifetime == 86400
    for bad in ("0", "299", "31536001", "a day"):
        with pytest.raises(SettingsError):
            load_settings({**base, "SESSION_MAX_LIFETIME": bad})


@pytest.mark.parametrize(
    "url",
    [
        "https://auth.example.com",
        "https://auth.example.com/base/",
        "http://localhost:8080",
        "http://127.0.0.1:54321",
        "http://[::1]:8080",
        "http://LOCALHOST",
    ],
)
def test_public_url_https_or_loopback_http(url):
    assert load_mail_settings({"PUBLIC_URL": url}).public_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.example.com",
        "http://10.0.0.5:8080",
        "http://127.0.0.2",
        "http://localhost.example.com",
        "ftp://localhost",
        "javascript:alert(1)",
        "https://",
        "http://[::1",
    ],
)
def test_public_url_refused_otherwise(url):
    with pytest.raises(SettingsError) as refused:
        load_mail_settings({"PUBLIC_URL": url})
    assert "https://" in str(refused.value)
