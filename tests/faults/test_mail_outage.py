"""Fault: the mail server is down. Requests are answered as usual; the mail arrives once it is back.

Requests never talk to the mail server: they queue the mail in the outbox
(in their own transaction) and the senders deliver it later. That is what
is checked, not how long the requests took (which depends on the machine).
"""

import time

import pytest

from tests.helpers import random_user
from tests.mailbox import RESET_SUBJECT, VERIFY_SUBJECT, wait_for_mail

pytestmark = pytest.mark.slow


def test_mail_server_down_never_fails_a_request_and_nothing_is_lost(api, stack, admin_token):
    user = random_user()
    stack.run("stop", "mailsink")
    try:
        signup = api.post("/auth/signup", user)
        assert signup.status_code == 201, signup.text
        forgot = api.post("/auth/password/forgot", {"email": user["email"]})
        assert forgot.status_code == 202, forgot.text
        time.sleep(4)  # a few delivery attempts fail meanwhile
        counts = api.get("/auth/admin/outbox", token=admin_token).json()
        assert counts["pending"] >= 2, counts
    finally:
        stack.run("start", "mailsink")
    wait_for_mail(user["email"], VERIFY_SUBJECT, timeout=90)
    wait_for_mail(user["email"], RESET_SUBJECT, timeout=90)
