"""api_service in-process (Flask test client) against the test stack's real Redis."""

import os
import secrets

import pytest

from api_app.app import create_app
from api_app.settings import load_settings
from authcore.tokens import issue_access_token
from tests.stack_env import stack_setting


@pytest.fixture
def settings():
    stack_setting("REDIS_URL")
    # As api_service runs: its own read-only Redis user.
    redis_url = os.environ.get("API_SERVICE_REDIS_URL") or os.environ["REDIS_URL"]
    return load_settings(
        {**os.environ, "REDIS_URL": redis_url, "JWT_SECRET": secrets.token_urlsafe(48), "JWT_KEYS": ""}
    )


def token_for(settings, roles=()):
    return issue_access_token(
        settings.tokens,
        user_id="u-" + secrets.token_hex(4),
        username="alice",
        session_id=secrets.token_hex(8),
        roles=list(roles),
    )


def test_me_and_admin(settings):
    client = create_app(settings).test_client()
    token, claims = token_for(settings)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["session_id"] == claims.session_id
    assert client.get("/api/v1/admin", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    admin_token, _ = token_for(settings, roles=["admin"])
    assert client.get("/api/v1/admin", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200


def test_redis_unreachable_fails_closed(settings):
    # How soon is bounded by the client's timeouts (authcore/tests/test_revocation.py
    # checks them), not asserted here: it depends on the machine.
    broken = settings.__class__(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    client = create_app(broken).test_client()
    token, _ = token_for(settings)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert response.headers["Retry-After"]
    assert client.get("/api/healthz").status_code == 503


def test_invalid_token_is_checked_before_redis(settings):
    # Bad tokens are refused without a Redis round trip, so even with Redis
    # down they get 401, not 503.
    broken = settings.__class__(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    response = create_app(broken).test_client().get("/api/v1/me", headers={"Authorization": "Bearer a.b.c"})
    assert response.status_code == 401
