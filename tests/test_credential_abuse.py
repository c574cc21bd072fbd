"""Credential endpoints under abuse: throttling, rate limits, enumeration, password rules."""

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import NGINX_RATE_LIMIT_MESSAGE, assert_error, patient_post, posts_at_once, random_user

MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))


def login(base_url, username, password):
    """One login attempt, as a client that waits out nginx's per-address limit."""
    return patient_post(base_url + "/auth/login", {"username": username, "password": password})


@pytest.mark.parametrize("password", ["password1", "iloveyou2", "PASSWORD123", "qwertyuiop", "1q2w3e4r5t"])
def test_common_passwords_are_refused(api, password):
    body = assert_error(
        api.post("/auth/signup", {**random_user(), "password": password}), 422, "validation_failed"
    )
    assert body["fields"] == {"password": "is one of the most commonly used passwords"}


def test_common_passwords_are_refused_on_change_too(api, logged_in):
    body = {"current_password": logged_in["password"], "new_password": "sunshine1"}
    response = api.post("/auth/password", body, token=logged_in["access_token"])
    assert "new_password" in assert_error(response, 422, "validation_failed")["fields"]


def test_no_composition_rules(api):
    assert api.post("/auth/signup", {**random_user(), "password": "all lower case words"}).status_code == 201


def test_failed_logins_throttle_the_account_then_let_the_owner_back(base_url, new_user):
    for _ in range(MAX_FAILURES):
        assert_error(login(base_url, new_user["username"], "wrong-password"), 401, "invalid_credentials")
    # Now closed: even the right password waits, so guessing can't go on.
    blocked = login(base_url, new_user["username"], new_user["password"])
    assert_error(blocked, 429, "too_many_requests")
    assert 1 <= int(blocked.headers["Retry-After"]) <= 2
    time.sleep(int(blocked.headers["Retry-After"]) + 0.1)
    assert login(base_url, new_user["username"], new_user["password"]).status_code == 200
    # Success cleared the count: one more failure is a plain 401 again.
    assert_error(login(base_url, new_user["username"], "wrong-password"), 401, "invalid_credentials")


def test_backoff_grows_exponentially_and_is_capped(base_url, new_user):
    for _ in range(MAX_FAILURES):
        login(base_url, new_user["username"], "wrong-password")
    waits = []
    for _ in range(3):
        blocked = login(base_url, new_user["username"], "wrong-password")
        waits.append(int(blocked.headers["Retry-After"]))
        time.sleep(waits[-1] + 0.05)
        assert_error(login(base_url, new_user["username"], "wrong-password"), 401, "invalid_credentials")
    assert waits == sorted(waits) and waits[-1] > waits[0], waits


def test_throttling_a_username_tells_nothing_about_which_email_it_owns(base_url, new_user):
    """Failures on a username leave its own email exactly as open as a stranger's email."""
    stranger = random_user()
    for name in (new_user["username"], stranger["username"]):
        statuses = [login(base_url, name, "wrong-password").status_code for _ in range(MAX_FAILURES + 1)]
        assert statuses == [401] * MAX_FAILURES + [429]
    # The owner's email answers like an email nobody has: a plain 401, not 429.
    assert_error(login(base_url, new_user["email"], "wrong-password"), 401, "invalid_credentials")
    assert_error(login(base_url, stranger["email"], "wrong-password"), 401, "invalid_credentials")
    assert login(base_url, new_user["email"], new_user["password"]).status_code == 200


def test_an_email_is_throttled_like_any_name(base_url, new_user):
    for _ in range(MAX_FAILURES):
        assert_error(login(base_url, new_user["email"], "wrong-password"), 401, "invalid_credentials")
    assert_error(login(base_url, new_user["email"].upper(), new_user["password"]), 429, "too_many_requests")


def test_strangers_failing_logins_do_not_stop_the_owner_changing_the_password(api, base_url, logged_in):
    for name in (logged_in["username"], logged_in["email"]):
        statuses = [login(base_url, name, "a-strangers-guess").status_code for _ in range(MAX_FAILURES + 2)]
        assert statuses[-1] == 429, statuses  # the strangers did close the name
    body = {"current_password": logged_in["password"], "new_password": "owner-" + secrets.token_hex(8)}
    assert api.post("/auth/password", body, token=logged_in["access_token"]).status_code == 204


def test_guessing_the_current_password_with_a_token_is_throttled_on_its_own(api, logged_in):
    body = {"current_password": "not-it", "new_password": "owner-" + secrets.token_hex(8)}
    for _ in range(MAX_FAILURES):
        response = api.post("/auth/password", body, token=logged_in["access_token"])
        assert_error(response, 422, "validation_failed")
    assert_error(api.post("/auth/password", body, token=logged_in["access_token"]), 429, "too_many_requests")


def test_unknown_accounts_are_throttled_exactly_like_known_ones(base_url, new_user):
    unknown = "nobody-" + secrets.token_hex(5)
    known_statuses = [
        login(base_url, new_user["username"], "wrong-pw-1").status_code for _ in range(MAX_FAILURES + 1)
    ]
    unknown_statuses = [login(base_url, unknown, "wrong-pw-1").status_code for _ in range(MAX_FAILURES + 1)]
    assert known_statuses == unknown_statuses == [401] * MAX_FAILURES + [429]


def test_parallel_wrong_passwords_are_all_counted(base_url, new_user):
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(lambda _: login(base_url, new_user["username"], "wrong-pw-2"), range(50)))
    failures = sum(r.status_code == 401 for r in responses)
    assert failures + sum(r.status_code == 429 for r in responses) == 50
    assert failures >= MAX_FAILURES
    # Every counted failure doubled the wait: the counter lost none of them.
    # The wait started at the last failure, at most ``elapsed`` ago, and runs
    # down with the clock: the bound allows for however long this machine took
    # (no assertion on how long that was).
    expected = min(60, 2 ** (failures - MAX_FAILURES))
    final = login(base_url, new_user["username"], new_user["password"])
    elapsed = time.monotonic() - started
    if expected - elapsed > 1:  # else the wait may be over: nothing left to compare
        assert final.status_code == 429, final.text
        retry_after = int(final.headers["Retry-After"])
        assert expected - elapsed - 1 <= retry_after <= expected, (failures, retry_after, elapsed)


def test_nginx_limits_credential_endpoints_per_address_not_per_forwarded_header(base_url):
    # 40 at once, each claiming another address: past the burst of 10
    # whatever the rate, unless nginx believed the headers (see posts_at_once).
    forged = [{"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"} for i in range(40)]
    body = {"username": "ratelimit-probe", "password": "x" * 10}
    responses = posts_at_once(base_url, "/auth/login", [body] * 40, forged)
    limited = [
        r for r in responses if r.status_code == 429 and r.json()["message"] == NGINX_RATE_LIMIT_MESSAGE
    ]
    assert limited, "nginx never answered 429 despite forged X-Forwarded-For values"
    body = assert_error(limited[0], 429, "too_many_requests")
    assert limited[0].headers["Retry-After"] == "1"
    # nginx's own answer carries the same security headers as every other.
    assert limited[0].headers["X-Content-Type-Options"] == "nosniff"
    assert limited[0].headers["Cache-Control"] == "no-store"
    assert body["message"] == "Too many requests; retry later."
    assert all(r.status_code in (401, 429) for r in responses)
    time.sleep(1.5)  # let the bucket refill for the tests that follow


def test_mass_assignment_is_ignored_everywhere(api, logged_in):
    body = {
        "current_password": logged_in["password"],
        "new_password": "another-fine-pass",
        "roles": ["admin"],
    }
    assert api.post("/auth/password", body, token=logged_in["access_token"]).status_code == 204
    fresh = api.login(logged_in["username"], "another-fine-pass")
    assert api.me(fresh["access_token"]).json()["roles"] == []
