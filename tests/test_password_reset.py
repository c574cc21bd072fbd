"""Password reset through nginx, with the mail read from the stack's mail sink."""

import os
import secrets
import time

from tests.helpers import assert_error, random_user
from tests.mailbox import CHANGED_SUBJECT, RESET_SUBJECT, mail_to, token_in, wait_for_mail

FORGOT, RESET = "/auth/password/forgot", "/auth/password/reset"


def reset_with(api, token: str):
    """Reset with ``token`` to a fresh valid password; the response."""
    return api.post(RESET, {"token": token, "new_password": "fresh-" + secrets.token_hex(6)})


def ask_reset(api, email: str):
    response = api.post(FORGOT, {"email": email})
    assert response.status_code == 202, response.text
    return response.json()


def test_the_whole_reset_flow_ends_every_session(api, new_user):
    first = api.login(new_user["username"], new_user["password"])
    second = api.login(new_user["username"], new_user["password"])
    ask_reset(api, new_user["email"].upper())  # addresses match in any case
    message = wait_for_mail(new_user["email"], RESET_SUBJECT)
    public_url = os.environ.get("PUBLIC_URL", "").rstrip("/")
    assert f"{public_url}/reset-password#token=" in message["body"], message["body"]
    new_password = "reset-" + secrets.token_hex(8)
    response = api.post(RESET, {"token": token_in(message), "new_password": new_password})
    assert response.status_code == 204, response.text
    for tokens in (first, second):
        assert_error(api.me(tokens["access_token"]), 401, "invalid_token")
        refused = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        assert_error(refused, 401, "invalid_token")
    old = api.post("/auth/login", {"username": new_user["username"], "password": new_user["password"]})
    assert_error(old, 401, "invalid_credentials")
    fresh = api.login(new_user["username"], new_password)
    assert api.me(fresh["access_token"]).status_code == 200
    notice = wait_for_mail(new_user["email"], CHANGED_SUBJECT)
    assert "reset" in notice["body"]


def test_a_reset_token_works_once(api, new_user):
    ask_reset(api, new_user["email"])
    token = token_in(wait_for_mail(new_user["email"], RESET_SUBJECT))
    assert reset_with(api, token).status_code == 204
    assert_error(reset_with(api, token), 400, "invalid_reset_token")


def test_a_newer_link_kills_the_older_one(api, new_user):
    ask_reset(api, new_user["email"])
    older = token_in(wait_for_mail(new_user["email"], RESET_SUBJECT))
    ask_reset(api, new_user["email"])
    newer = token_in(wait_for_mail(new_user["email"], RESET_SUBJECT, count=2))
    assert newer != older
    assert_error(reset_with(api, older), 400, "invalid_reset_token")
    assert reset_with(api, newer).status_code == 204


def test_changing_the_password_kills_reset_links(api, logged_in):
    ask_reset(api, logged_in["email"])
    token = token_in(wait_for_mail(logged_in["email"], RESET_SUBJECT))
    change = {"current_password": logged_in["password"], "new_password": "changed-" + secrets.token_hex(6)}
    assert api.post("/auth/password", change, token=logged_in["access_token"]).status_code == 204
    wait_for_mail(logged_in["email"], CHANGED_SUBJECT)
    assert_error(reset_with(api, token), 400, "invalid_reset_token")


def test_the_password_rules_apply_and_a_refused_password_keeps_the_token(api, new_user):
    ask_reset(api, new_user["email"])
    token = token_in(wait_for_mail(new_user["email"], RESET_SUBJECT))
    for weak in ("short", "password123", "x" * 73):
        body = assert_error(api.post(RESET, {"token": token, "new_password": weak}), 422, "validation_failed")
        assert "new_password" in body["fields"], body
    assert reset_with(api, token).status_code == 204


def test_malformed_and_unknown_tokens_are_json_400(api):
    password = "fine-" + secrets.token_hex(6)
    for token in ("x", "a" * 42, "a" * 44, "!" * 43, "a" * 42 + "=", secrets.token_urlsafe(32)):
        assert_error(api.post(RESET, {"token": token, "new_password": password}), 400, "invalid_reset_token")
    for body in ({"token": 5, "new_password": password}, {"new_password": password}, {"token": ["x"]}):
        assert_error(api.post(RESET, body), 422, "validation_failed")


def test_known_unknown_and_disabled_addresses_get_the_same_answer(api, admin_token, new_user):
    disabled = api.create_user()
    assert api.post(f"/auth/users/{disabled['username']}/disable", token=admin_token).status_code == 204
    unknown = random_user()["email"]
    answers = [ask_reset(api, email) for email in (unknown, disabled["email"], new_user["email"])]
    assert answers[0] == answers[1] == answers[2]
    # Requests are sent in order: once the known one's mail is here, the others were handled.
    wait_for_mail(new_user["email"], RESET_SUBJECT)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert mail_to(unknown) == [] and mail_to(disabled["email"], RESET_SUBJECT) == []
        time.sleep(0.2)


def test_invalid_addresses_are_422(api):
    for email in ("not-an-address", "a@", "x" * 250 + "@example.com"):
        body = assert_error(api.post(FORGOT, {"email": email}), 422, "validation_failed")
        assert "email" in body["fields"], body
    assert_error(api.post(FORGOT, {"email": 7}), 422, "validation_failed")


def test_requests_per_address_are_limited_alike_for_known_and_unknown(api, new_user):
    for email in (new_user["email"], random_user()["email"]):
        statuses = [api.post(FORGOT, {"email": email}).status_code for _ in range(6)]
        assert statuses == [202] * 5 + [429], (email, statuses)
        limited = api.post(FORGOT, {"email": email})
        body = assert_error(limited, 429, "too_many_requests")
        assert "mail requests" in body["message"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 900
