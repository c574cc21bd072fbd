"""Security notices by mail, and the admins' view of the outbox."""

import os
import time

import pytest
import requests

from tests.helpers import TIMEOUT, assert_error
from tests.mailbox import CHANGED_SUBJECT, NEW_DEVICE_SUBJECT, VERIFY_SUBJECT, mail_to, wait_for_mail


def login_from(base_url: str, user: dict, user_agent: str) -> None:
    response = requests.post(
        base_url + "/auth/login",
        json={"username": user["username"], "password": user["password"]},
        headers={"User-Agent": user_agent},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text


def test_a_password_change_is_notified(api, logged_in):
    change = {"current_password": logged_in["password"], "new_password": "changed-pass-4321"}
    assert api.post("/auth/password", change, token=logged_in["access_token"]).status_code == 204
    notice = wait_for_mail(logged_in["email"], CHANGED_SUBJECT)
    assert logged_in["username"] in notice["body"] and "changed" in notice["body"]


def test_a_sign_in_from_a_new_device_is_notified_once(base_url, new_user):
    if os.environ.get("NOTIFY_NEW_DEVICE") != "1":
        pytest.fail("the suite runs with NOTIFY_NEW_DEVICE=1 (make test and make compose-test set it)")
    login_from(base_url, new_user, "FirstBrowser/1.0")
    login_from(base_url, new_user, "FirstBrowser/1.0")
    login_from(base_url, new_user, "SecondPhone/2.0")
    notice = wait_for_mail(new_user["email"], NEW_DEVICE_SUBJECT)
    assert "SecondPhone/2.0" in notice["body"]
    login_from(base_url, new_user, "SecondPhone/2.0")
    # The verification mail was queued first; wait for it, then a while more: no second notice.
    wait_for_mail(new_user["email"], VERIFY_SUBJECT)
    time.sleep(2)
    assert len(mail_to(new_user["email"], NEW_DEVICE_SUBJECT)) == 1


def test_admins_see_the_outbox_counts(api, admin_token, logged_in):
    response = api.get("/auth/admin/outbox", token=admin_token)
    assert response.status_code == 200, response.text
    before = response.json()
    assert set(before) == {"pending", "sent", "skipped", "failed"}
    assert all(isinstance(count, int) and count >= 0 for count in before.values())
    api.post("/auth/email/verify/resend", token=logged_in["access_token"])
    wait_for_mail(logged_in["email"], VERIFY_SUBJECT, count=2)
    after = api.get("/auth/admin/outbox", token=admin_token).json()
    assert after["sent"] >= before["sent"] + 1, (before, after)
    assert_error(api.get("/auth/admin/outbox", token=logged_in["access_token"]), 403, "forbidden")
    assert_error(api.get("/auth/admin/outbox"), 401, "missing_token")


def test_the_admin_made_by_the_admin_command_counts_as_verified(api, admin_token):
    assert api.me(admin_token).json()["email_verified"] is True
