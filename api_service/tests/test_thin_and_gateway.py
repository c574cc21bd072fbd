"""The thin dispatcher and the gateway's verify endpoint, in-process against the test stack's Redis."""

import os
import secrets

import pytest

from api_app.app import create_app
from api_app.dispatch import thin_routes
from api_app.settings import load_settings
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList
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


@pytest.fixture
def app(settings):
    return create_app(settings)


def bearer_for(settings, *roles, amr=("pwd",)):
    token, claims = issue_access_token(
        settings.tokens,
        user_id="u-" + secrets.token_hex(4),
        username="alice",
        session_id=secrets.token_hex(8),
        roles=list(roles),
        amr=amr,
    )
    return {"Authorization": f"Bearer {token}"}, claims


def broken_redis(settings):
    return create_app(settings.__class__(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"}))


def test_thin_routes_are_the_fixed_path_gets_declared_thin(app):
    assert set(thin_routes(app)) == {"/api/v1/me", "/api/v1/admin", "/api/v1/example/hello"}


@pytest.mark.parametrize("path", ["/api/v1/admin", "/api/v1/example/hello", "/api/v1/example/reports/2026"])
def test_thin_and_flask_routes_refuse_alike(app, settings, path):
    client = app.test_client()
    missing = client.get(path)
    assert missing.status_code == 401
    assert missing.get_json()["error"] == "missing_token"
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    bad = client.get(path, headers={"Authorization": "Bearer a.b.c"})
    assert bad.status_code == 401
    assert bad.get_json()["error"] == "invalid_token"
    headers, _ = bearer_for(settings, "admin", "auditor")
    assert client.get(path, headers=headers).status_code == 200
    # HEAD is served by Flask with the same checks.
    assert client.head(path).status_code == 401
    assert client.head(path, headers=headers).status_code == 200


def test_any_of_roles(app, settings):
    client = app.test_client()
    for roles, status in ((("auditor",), 200), (("admin",), 200), (("billing",), 403), ((), 403)):
        headers, claims = bearer_for(settings, *roles)
        response = client.get("/api/v1/example/reports/2026", headers=headers)
        assert response.status_code == status, (roles, response.get_json())
        if status == 200:
            assert response.get_json() == {"year": 2026, "requested_by": claims.username, "reports": []}


def test_a_revoked_session_is_refused_by_thin_routes_and_the_verify_step(app, settings):
    client = app.test_client()
    headers, claims = bearer_for(settings)
    assert client.get("/api/v1/example/hello", headers=headers).status_code == 200
    assert client.get("/_gateway/verify", headers=headers).status_code == 200
    # Revoked as auth_service does it: api_service's own Redis user may only read.
    writer = make_redis(os.environ["REDIS_URL"], os.environ.get("REDIS_AUTH_PASSWORD"))
    revocations = RevocationList(writer, settings.tokens.access_ttl, settings.tokens.leeway)
    revocations.revoke_sessions([claims.session_id])
    assert client.get("/api/v1/example/hello", headers=headers).status_code == 401
    refused = client.get("/_gateway/verify", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["X-Auth-Error"] == "invalid_token"


def test_the_verify_step_answers_the_identity(app, settings):
    headers, claims = bearer_for(settings, "zeta", "alpha")
    response = app.test_client().get("/_gateway/verify", headers=headers)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Auth-User-Id"] == claims.user_id
    assert response.headers["X-Auth-Username"] == "alice"
    assert response.headers["X-Auth-Roles"] == "alpha,zeta"
    assert response.headers["X-Auth-Session-Id"] == claims.session_id
    assert response.headers["X-Auth-Amr"] == "pwd"


def test_the_verify_step_demands_a_second_factor_when_asked(app, settings):
    client = app.test_client()
    password_only, _ = bearer_for(settings)
    refused = client.get("/_gateway/verify", headers={**password_only, "X-Require-Mfa": "1"})
    assert refused.status_code == 403
    assert refused.headers["X-Auth-Error"] == "mfa_required"
    assert client.get("/_gateway/verify", headers={**password_only, "X-Require-Mfa": "0"}).status_code == 200
    with_code, _ = bearer_for(settings, amr=("mfa", "otp", "pwd"))
    allowed = client.get("/_gateway/verify", headers={**with_code, "X-Require-Mfa": "1"})
    assert allowed.status_code == 200
    assert allowed.headers["X-Auth-Amr"] == "mfa,otp,pwd"


def test_me_shows_amr(app, settings):
    headers, _ = bearer_for(settings, amr=("mfa", "otp", "pwd"))
    assert app.test_client().get("/api/v1/me", headers=headers).get_json()["amr"] == ["mfa", "otp", "pwd"]


def test_the_verify_step_checks_the_required_role(app, settings):
    client = app.test_client()
    headers, _ = bearer_for(settings, "reader")
    refused = client.get("/_gateway/verify", headers={**headers, "X-Required-Role": "writer"})
    assert refused.status_code == 403
    assert refused.headers["X-Auth-Error"] == "forbidden"
    allowed = client.get("/_gateway/verify", headers={**headers, "X-Required-Role": "reader"})
    assert allowed.status_code == 200


@pytest.mark.parametrize("name", ["X-Auth-Foo", "x-auth-user-id", "X-AUTH-ROLES"])
def test_the_verify_step_refuses_client_sent_identity_headers(app, settings, name):
    headers, _ = bearer_for(settings)
    refused = app.test_client().get("/_gateway/verify", headers={**headers, name: "forged"})
    assert refused.status_code == 403
    assert refused.headers["X-Auth-Error"] == "reserved_header"


def test_redis_down_the_verify_step_and_thin_routes_answer_503(settings):
    client = broken_redis(settings).test_client()
    headers, _ = bearer_for(settings)
    verify = client.get("/_gateway/verify", headers=headers)
    assert verify.status_code == 503
    assert verify.headers["X-Auth-Error"] == "unavailable"
    thin = client.get("/api/v1/example/hello", headers=headers)
    assert thin.status_code == 503
    assert thin.headers["Retry-After"]
    assert thin.get_json()["error"] == "unavailable"


def test_the_verify_step_is_get_only(app, settings):
    headers, _ = bearer_for(settings)
    assert app.test_client().post("/_gateway/verify", headers=headers).status_code == 404
