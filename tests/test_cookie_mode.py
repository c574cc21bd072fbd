"""Cookie mode over plain HTTP: the refresh cookie's attributes, rotation, and the CSRF checks.

The browser tests (tests/browser) show the page using it; these pin the
contract of docs/API.md ("Browsers") request by request, in both stacks.
"""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.cookie_mode import COOKIE, explicit_cookies_only, origin_of, refresh_cookie, same_origin
from tests.helpers import TIMEOUT, assert_error, bearer

ACTING_ON_THE_COOKIE = ("/auth/refresh", "/auth/logout", "/auth/logout-all")


@pytest.fixture
def api(api):
    """The suite's client, keeping no cookies: each request names the cookie it sends."""
    return explicit_cookies_only(api)


def cookie_login(api, base_url, user) -> tuple[dict, dict]:
    """Log in from the page's origin; the JSON body and the refresh cookie."""
    credentials = {"username": user["username"], "password": user["password"]}
    response = api.post("/auth/login", credentials, headers=same_origin(base_url))
    assert response.status_code == 200, response.text
    return response.json(), refresh_cookie(response)


def test_login_in_cookie_mode_sets_the_cookie_and_keeps_the_token_out_of_the_body(api, base_url, new_user):
    body, cookie = cookie_login(api, base_url, new_user)
    assert "refresh_token" not in body
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_expires_in"}
    assert cookie["value"].startswith("rt_")
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/auth/"
    assert int(cookie["max-age"]) == body["refresh_expires_in"]
    # Plain http (the demo on 127.0.0.1): a Secure cookie would never be sent back.
    assert base_url.startswith("https://") == cookie["secure"]
    assert api.me(body["access_token"]).status_code == 200


def test_json_mode_is_unchanged_and_never_sets_or_reads_the_cookie(api, base_url, new_user):
    credentials = {"username": new_user["username"], "password": new_user["password"]}
    response = api.post("/auth/login", credentials)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.json()["refresh_token"].startswith("rt_")
    _, cookie = cookie_login(api, base_url, new_user)
    # The cookie alone, without the header, is not looked at.
    ignored = api.post("/auth/refresh", {}, headers={"Cookie": f"{COOKIE}={cookie['value']}"})
    assert_error(ignored, 422, "validation_failed")
    assert api.post("/auth/refresh", headers=same_origin(base_url, cookie["value"])).status_code == 200


def test_refresh_rotates_the_cookie_and_a_reused_one_is_refused_and_cleared(api, base_url, new_user):
    _, first = cookie_login(api, base_url, new_user)
    response = api.post("/auth/refresh", headers=same_origin(base_url, first["value"]))
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    second = refresh_cookie(response)
    assert second["value"] != first["value"] and second["httponly"]
    reused = api.post("/auth/refresh", headers=same_origin(base_url, first["value"]))
    assert_error(reused, 401, "invalid_token")
    cleared = refresh_cookie(reused)
    assert cleared["value"] == "" and cleared["max-age"] == "0" and cleared["path"] == "/auth/"
    # Reuse ended the session: the rotated cookie is dead too.
    assert_error(
        api.post("/auth/refresh", headers=same_origin(base_url, second["value"])), 401, "invalid_token"
    )


def test_refresh_in_cookie_mode_without_the_cookie_is_401(api, base_url):
    assert_error(api.post("/auth/refresh", headers=same_origin(base_url)), 401, "invalid_token")


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
def test_logout_in_cookie_mode_ends_the_session_and_clears_the_cookie(api, base_url, new_user, path):
    body, cookie = cookie_login(api, base_url, new_user)
    response = api.post(path, token=body["access_token"], headers=same_origin(base_url, cookie["value"]))
    assert response.status_code == 204, response.text
    assert refresh_cookie(response)["value"] == ""
    assert_error(
        api.post("/auth/refresh", headers=same_origin(base_url, cookie["value"])), 401, "invalid_token"
    )
    assert api.me(body["access_token"]).status_code == 401


def cross_site_variants(base_url: str) -> dict[str, dict]:
    """Cookie-mode headers as they would come from anywhere but the page itself."""
    url = urlsplit(base_url)
    other_scheme = "https" if url.scheme == "http" else "http"
    return {
        "no Origin and no Sec-Fetch-Site": {"X-Auth-Mode": "cookie"},
        "another port of the same host": {
            "X-Auth-Mode": "cookie",
            "Origin": f"{url.scheme}://{url.hostname}:{(url.port or 80) + 1}",
        },
        "another site": {"X-Auth-Mode": "cookie", "Origin": "https://evil.example"},
        "Origin null": {"X-Auth-Mode": "cookie", "Origin": "null"},
        "the other scheme": {"X-Auth-Mode": "cookie", "Origin": f"{other_scheme}://{url.netloc}"},
        "Sec-Fetch-Site cross-site": {"X-Auth-Mode": "cookie", "Sec-Fetch-Site": "cross-site"},
        "Sec-Fetch-Site same-site": {"X-Auth-Mode": "cookie", "Sec-Fetch-Site": "same-site"},
        "right Origin, Sec-Fetch-Site same-site": {**same_origin(base_url), "Sec-Fetch-Site": "same-site"},
        "right Sec-Fetch-Site, foreign Origin": {**same_origin(base_url), "Origin": "https://evil.example"},
    }


def test_cookie_mode_from_anywhere_else_is_403_and_changes_nothing(api, base_url, new_user):
    body, cookie = cookie_login(api, base_url, new_user)
    token, value = body["access_token"], cookie["value"]
    credentials = {"username": new_user["username"], "password": new_user["password"]}
    for case, headers in cross_site_variants(base_url).items():
        headers = {**headers, "Cookie": f"{COOKIE}={value}"}
        for path in ACTING_ON_THE_COOKIE:
            response = api.post(path, token=token, headers=headers)
            assert response.status_code == 403, (case, path, response.text)
            assert_error(response, 403, "csrf_failed")
            assert "Set-Cookie" not in response.headers, (case, path)
        login = api.post("/auth/login", credentials, headers=headers)
        assert_error(login, 403, "csrf_failed")
    # Nothing changed: the session lives and the very same cookie still refreshes.
    assert api.me(token).status_code == 200
    sessions = api.get("/auth/sessions", token=token).json()["sessions"]
    assert len(sessions) == 1
    assert api.post("/auth/refresh", headers=same_origin(base_url, value)).status_code == 200


def test_either_same_origin_signal_alone_is_enough(api, base_url, new_user):
    _, cookie = cookie_login(api, base_url, new_user)
    only_origin = {
        "X-Auth-Mode": "cookie",
        "Origin": origin_of(base_url),
        "Cookie": f"{COOKIE}={cookie['value']}",
    }
    response = api.post("/auth/refresh", headers=only_origin)
    assert response.status_code == 200, response.text
    fresh = refresh_cookie(response)["value"]
    only_fetch_site = {
        "X-Auth-Mode": "cookie",
        "Sec-Fetch-Site": "same-origin",
        "Cookie": f"{COOKIE}={fresh}",
    }
    assert api.post("/auth/refresh", headers=only_fetch_site).status_code == 200


def test_logout_in_cookie_mode_still_needs_the_access_token(api, base_url, new_user):
    body, cookie = cookie_login(api, base_url, new_user)
    response = api.post("/auth/logout", headers=same_origin(base_url, cookie["value"]))
    assert_error(response, 401, "missing_token")
    assert "Set-Cookie" not in response.headers
    assert api.me(body["access_token"]).status_code == 200
    assert (
        api.post(
            "/auth/logout", headers={**same_origin(base_url), **bearer(body["access_token"])}
        ).status_code
        == 204
    )


def test_concurrent_refreshes_with_one_cookie_rotate_it_at_most_once(api, base_url, new_user):
    body, cookie = cookie_login(api, base_url, new_user)
    headers = same_origin(base_url, cookie["value"])
    url = base_url + "/auth/refresh"

    def refresh(_):
        return requests.post(url, headers=headers, timeout=TIMEOUT)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(refresh, range(8)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401, 429}, statuses
    assert {200, 401} & set(statuses), statuses
    # The losers presented a used token: the session ended, as in JSON mode.
    for response in responses:
        if response.status_code == 200:
            rotated = refresh_cookie(response)["value"]
            again = api.post("/auth/refresh", headers=same_origin(base_url, rotated))
            assert_error(again, 401, "invalid_token")
    if 401 in statuses:
        assert api.me(body["access_token"]).status_code == 401
