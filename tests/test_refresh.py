"""POST /auth/refresh: rotation, reuse detection, and what is never a refresh token."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import assert_error


def refresh(api, token):
    return api.post("/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_the_pair(api, logged_in):
    response = refresh(api, logged_in["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert body["refresh_token"] != logged_in["refresh_token"]
    assert (
        api.me(body["access_token"]).json()["session_id"]
        == api.me(logged_in["access_token"]).json()["session_id"]
    )
    # The new refresh token works once more.
    assert refresh(api, body["refresh_token"]).status_code == 200


def test_a_rotated_refresh_token_is_dead_and_its_reuse_ends_the_session(api, logged_in):
    rotated = refresh(api, logged_in["refresh_token"]).json()
    reuse = refresh(api, logged_in["refresh_token"])
    assert_error(reuse, 401, "invalid_token")
    # Theft assumed: the whole session is over, including the thief's or owner's new tokens.
    assert_error(api.me(rotated["access_token"]), 401, "invalid_token")
    assert_error(api.me(logged_in["access_token"]), 401, "invalid_token")
    assert_error(refresh(api, rotated["refresh_token"]), 401, "invalid_token")


def test_reuse_ends_only_that_session(api, new_user):
    victim = api.login(new_user["username"], new_user["password"])
    other = api.login(new_user["username"], new_user["password"])
    refresh(api, victim["refresh_token"])
    refresh(api, victim["refresh_token"])
    assert api.me(other["access_token"]).status_code == 200
    assert refresh(api, other["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", "rt_", "rt_" + "A" * 43, "not-a-token", "x" * 5000, "rt_" + "A" * 42 + "\u00e9"],
)
def test_unknown_or_malformed_refresh_tokens_are_401_or_422(api, token):
    response = refresh(api, token)
    if token == "":
        assert_error(response, 422, "validation_failed")
    else:
        assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize(
    "body", [{}, {"refresh_token": None}, {"refresh_token": 12}, {"refresh_token": ["rt_"]}]
)
def test_refresh_with_missing_or_mistyped_field_is_422(api, body):
    assert_error(api.post("/auth/refresh", body), 422, "validation_failed")


def test_refresh_with_no_body_and_no_cookie_is_422_not_415(api):
    # The document marks the body optional (cookie mode sends none).
    body = assert_error(api.request("POST", "/auth/refresh"), 422, "validation_failed")
    assert body["fields"] == {"refresh_token": "is required"}, body
    # A body of another type is still refused for its type.
    response = api.request("POST", "/auth/refresh", data="x", headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")


def test_an_access_token_is_not_a_refresh_token(api, logged_in):
    assert_error(refresh(api, logged_in["access_token"]), 401, "invalid_token")
    # ...and trying did not hurt the session.
    assert api.me(logged_in["access_token"]).status_code == 200


def test_refresh_after_logout_is_401(api, logged_in):
    api.post("/auth/logout", token=logged_in["access_token"])
    assert_error(refresh(api, logged_in["refresh_token"]), 401, "invalid_token")


def test_parallel_refreshes_with_one_token_let_at_most_one_through(api, base_url, logged_in):
    import requests

    def attempt(_):
        # nginx's per-address burst may refuse some of the eight (the suite shares one
        # address): those retry like a polite client, so every attempt reaches the service.
        for _ in range(50):
            status = requests.post(
                base_url + "/auth/refresh", json={"refresh_token": logged_in["refresh_token"]}, timeout=10
            ).status_code
            if status != 429:
                return status
            time.sleep(0.05)
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 401}, statuses
    # The strict design: a replayed refresh token ends the session, whoever won.
    assert_error(api.me(logged_in["access_token"]), 401, "invalid_token")
