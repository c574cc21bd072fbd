"""Fault: the mail server is down. Requests answer as fast as ever; the mail arrives once it is back."""

import time

import pytest

from tests.helpers import random_user
from tests.mailbox import RESET_SUBJECT, VERIFY_SUBJECT, wait_for_mail

pytestmark = pytest.mark.slow


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_mail_server_down_never_fails_a_request_and_nothing_is_lost(api, stack, admin_token):
    user = random_user()
    stack.run("stop", "mailsink")
    try:
        signup, signup_seconds = timed(lambda: api.post("/auth/signup", user))
        assert signup.status_code == 201, signup.text
        forgot, forgot_seconds = timed(lambda: api.post("/auth/password/forgot", {"email": user["email"]}))
        assert forgot.status_code == 202, forgot.text
        assert signup_seconds < 2 and forgot_seconds < 2, (signup_seconds, forgot_seconds)
        time.sleep(4)  # a few delivery attempts fail meanwhile
        counts = api.get("/auth/admin/outbox", token=admin_token).json()
        assert counts["pending"] >= 2, counts
    finally:
        stack.run("start", "mailsink")
    wait_for_mail(user["email"], VERIFY_SUBJECT, timeout=90)
    wait_for_mail(user["email"], RESET_SUBJECT, timeout=90)
