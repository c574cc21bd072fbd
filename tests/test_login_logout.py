"""POST /auth/login and /auth/logout, and the revocation rule of docs/ARCHITECTURE.md."""

import pytest

from tests.helpers import assert_error, random_user


def test_login_returns_the_token_pair(api, new_user):
    body = api.login(new_user["username"], new_user["password"])
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0 and body["refresh_expires_in"] > body["expires_in"]
    assert body["access_token"].count(".") == 2
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]


def test_login_accepts_the_email_and_any_username_spelling(api, new_user):
    assert api.post(
        "/auth/login", {"username": new_user["email"].upper(), "password": new_user["password"]}
    ).ok
    assert api.post(
        "/auth/login", {"username": new_user["username"].upper(), "password": new_user["password"]}
    ).ok


def test_each_login_is_a_new_session(api, new_user):
    first = api.login(new_user["username"], new_user["password"])
    second = api.login(new_user["username"], new_user["password"])
    assert (
        api.me(first["access_token"]).json()["session_id"]
        != api.me(second["access_token"]).json()["session_id"]
    )


def test_unknown_user_and_wrong_password_look_identical(api, new_user):
    wrong_password = api.post(
        "/auth/login", {"username": new_user["username"], "password": "not-the-password"}
    )
    unknown_user = api.post("/auth/login", {"username": random_user()["username"], "password": "whatever-pw"})
    for response in (wrong_password, unknown_user):
        assert_error(response, 401, "invalid_credentials")
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.headers.get("WWW-Authenticate") == unknown_user.headers.get("WWW-Authenticate")


@pytest.mark.parametrize(
    "body", [{}, {"username": "someone"}, {"password": "x" * 10}, {"username": 1, "password": "x" * 10}]
)
def test_login_with_missing_or_mistyped_fields_is_422(api, body):
    assert_error(api.post("/auth/login", body), 422, "validation_failed")


def test_login_with_a_password_over_72_bytes_is_401_not_500(api, new_user):
    response = api.post("/auth/login", {"username": new_user["username"], "password": "x" * 100})
    assert_error(response, 401, "invalid_credentials")


def test_logout_revokes_the_access_token_on_the_very_next_request(api, logged_in):
    token = logged_in["access_token"]
    assert api.me(token).status_code == 200
    assert api.post("/auth/logout", token=token).status_code == 204
    response = api.me(token)
    assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_logout_ends_only_that_session(api, new_user):
    first = api.login(new_user["username"], new_user["password"])
    second = api.login(new_user["username"], new_user["password"])
    assert api.post("/auth/logout", token=first["access_token"]).status_code == 204
    assert api.me(first["access_token"]).status_code == 401
    assert api.me(second["access_token"]).status_code == 200


def test_logout_twice_is_401_the_second_time(api, logged_in):
    token = logged_in["access_token"]
    assert api.post("/auth/logout", token=token).status_code == 204
    assert_error(api.post("/auth/logout", token=token), 401, "invalid_token")


def test_logout_without_a_token_is_401_missing_token(api):
    response = api.post("/auth/logout")
    assert_error(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_a_refresh_token_is_not_an_access_token(api, logged_in):
    assert_error(api.me(logged_in["refresh_token"]), 401, "invalid_token")
    assert_error(api.post("/auth/logout", token=logged_in["refresh_token"]), 401, "invalid_token")
