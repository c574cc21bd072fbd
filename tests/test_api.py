"""api_service through nginx: /api/v1/me, /api/v1/admin, bearer handling."""

import base64
import json

import pytest

from tests.helpers import assert_error


def test_me_describes_the_verified_token(api, logged_in):
    response = api.me(logged_in["access_token"])
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == logged_in["id"]
    assert body["username"] == logged_in["username"]
    assert body["roles"] == []
    assert body["session_id"]
    # The token's own expiry, read from its claims (not from this machine's clock,
    # which has moved on by however long the login took).
    claims = json.loads(base64.urlsafe_b64decode(logged_in["access_token"].split(".")[1] + "=="))
    assert body["expires_at"] == claims["exp"], (body, claims)
    assert claims["exp"] - claims["iat"] == pytest.approx(logged_in["expires_in"], abs=1), claims


def test_admin_route_is_403_without_the_role(api, logged_in):
    assert_error(api.get("/api/v1/admin", token=logged_in["access_token"]), 403, "forbidden")


def test_admin_route_is_401_without_a_token(api):
    assert_error(api.get("/api/v1/admin"), 401, "missing_token")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer-abc"],
)
def test_unusable_authorization_headers_are_401(api, header):
    response = api.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"] in ("missing_token", "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive(api, logged_in):
    header = {"Authorization": "bEaReR " + logged_in["access_token"]}
    assert api.get("/api/v1/me", headers=header).status_code == 200


def test_token_in_the_query_string_is_ignored(api, logged_in):
    response = api.get("/api/v1/me", params={"access_token": logged_in["access_token"]})
    assert_error(response, 401, "missing_token")


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    payload = _segments(token)[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_token_with_an_edited_payload_is_401(api, logged_in):
    header, _, signature = _segments(logged_in["access_token"])
    claims = _claims(logged_in["access_token"]) | {"roles": ["admin"]}
    forged = f"{header}.{_b64(claims)}.{signature}"
    assert_error(api.get("/api/v1/admin", token=forged), 401, "invalid_token")


def test_alg_none_is_401(api, logged_in):
    claims = _claims(logged_in["access_token"])
    forged = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': 'k1'})}.{_b64(claims)}."
    assert_error(api.me(forged), 401, "invalid_token")


@pytest.mark.parametrize("suffix", ["=", "==", "x"])
def test_other_encodings_of_a_valid_token_are_401(api, logged_in, suffix):
    assert_error(api.me(logged_in["access_token"] + suffix), 401, "invalid_token")


def test_api_routes_that_do_not_exist_are_404_json(api):
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_405_json(api, logged_in):
    response = api.post("/api/v1/me", token=logged_in["access_token"])
    assert_error(response, 405, "method_not_allowed")
