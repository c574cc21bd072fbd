"""Email verification through nginx, with the mail read from the stack's mail sink."""

import secrets

from tests.helpers import assert_error
from tests.mailbox import VERIFY_SUBJECT, token_in, wait_for_mail

VERIFY, RESEND = "/auth/email/verify", "/auth/email/verify/resend"


def refreshed(api, tokens: dict) -> dict:
    response = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200, response.text
    return response.json()


def test_signup_mails_a_link_that_verifies_the_address(api, logged_in):
    assert api.me(logged_in["access_token"]).json()["email_verified"] is False
    message = wait_for_mail(logged_in["email"], VERIFY_SUBJECT)
    assert "/verify-email#token=" in message["body"]
    assert api.post(VERIFY, {"token": token_in(message)}).status_code == 204
    # The token in hand was issued before: the claim changes with the next refresh.
    assert api.me(logged_in["access_token"]).json()["email_verified"] is False
    fresh = refreshed(api, logged_in)
    assert api.me(fresh["access_token"]).json()["email_verified"] is True
    relogged = api.login(logged_in["username"], logged_in["password"])
    assert api.me(relogged["access_token"]).json()["email_verified"] is True


def test_a_verification_token_works_once(api, new_user):
    token = token_in(wait_for_mail(new_user["email"], VERIFY_SUBJECT))
    assert api.post(VERIFY, {"token": token}).status_code == 204
    assert_error(api.post(VERIFY, {"token": token}), 400, "invalid_verification_token")


def test_resend_mails_a_new_link_and_kills_the_older_one(api, logged_in):
    older = token_in(wait_for_mail(logged_in["email"], VERIFY_SUBJECT))
    response = api.post(RESEND, token=logged_in["access_token"])
    assert response.status_code == 202, response.text
    assert response.json()["message"]
    newer = token_in(wait_for_mail(logged_in["email"], VERIFY_SUBJECT, count=2))
    assert newer != older
    assert_error(api.post(VERIFY, {"token": older}), 400, "invalid_verification_token")
    assert api.post(VERIFY, {"token": newer}).status_code == 204


def test_resend_needs_a_token_and_is_limited_per_user(api, logged_in):
    assert_error(api.post(RESEND), 401, "missing_token")
    statuses = [api.post(RESEND, token=logged_in["access_token"]).status_code for _ in range(6)]
    assert statuses == [202] * 5 + [429], statuses


def test_malformed_unknown_and_reset_tokens_are_json_400(api, new_user):
    for token in ("x", "a" * 44, "?" * 43, secrets.token_urlsafe(32)):
        assert_error(api.post(VERIFY, {"token": token}), 400, "invalid_verification_token")
    for body in ({}, {"token": 1}, {"token": ""}):
        assert_error(api.post(VERIFY, body), 422, "validation_failed")
    # A reset token is no verification token, and the other way round.
    api.post("/auth/password/forgot", {"email": new_user["email"]})
    reset_token = token_in(wait_for_mail(new_user["email"], "Reset your password"))
    assert_error(api.post(VERIFY, {"token": reset_token}), 400, "invalid_verification_token")
    verify_token = token_in(wait_for_mail(new_user["email"], VERIFY_SUBJECT))
    wrong = api.post("/auth/password/reset", {"token": verify_token, "new_password": "fine-pass-123"})
    assert_error(wrong, 400, "invalid_reset_token")
    # Neither was used up by the wrong route.
    assert api.post(VERIFY, {"token": verify_token}).status_code == 204
