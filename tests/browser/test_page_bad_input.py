"""Bad input on the page: the API's message is shown as text, the form keeps all but passwords."""

import os
import shlex
import time

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.faults.conftest import StackControl
from tests.helpers import random_user


def expect_kept_except_password(form, username: str) -> None:
    """What was typed stays, except the password, which is emptied."""
    expect(form.get_by_label("Username")).to_have_value(username)
    expect(form.get_by_label("Password", exact=True)).to_have_value("")


def test_a_wrong_password_is_shown_and_the_form_stays_usable(open_device, api):
    user = api.create_user()
    page = open_device().page
    form = pages.login_form(page)
    pages.log_in(page, user["username"], "not-" + user["password"])
    expect(form.get_by_role("alert")).to_have_text("Invalid username or password.")
    expect_kept_except_password(form, user["username"])
    form.get_by_label("Password").fill(user["password"])
    form.get_by_role("button", name="Log in").click()
    pages.expect_signed_in(page, user["username"])


def test_a_taken_username_is_shown(open_device, api):
    taken = api.create_user()
    page = open_device().page
    form = pages.signup_form(page)
    user = {**random_user(), "username": taken["username"]}
    pages.sign_up(page, user)
    expect(form.get_by_role("alert")).to_have_text("That username is already taken.")
    expect_kept_except_password(form, user["username"])
    expect(form.get_by_label("Email")).to_have_value(user["email"])
    # Usable: another name goes through.
    fresh = random_user()
    form.get_by_label("Username").fill(fresh["username"])
    form.get_by_label("Password").fill(fresh["password"])
    form.get_by_role("button", name="Sign up").click()
    expect(pages.notice(page)).to_contain_text(f"Account {fresh['username']} created")
    expect(form.get_by_role("alert")).to_be_hidden()


def test_a_weak_password_is_shown_with_the_field_at_fault(open_device):
    page = open_device().page
    form = pages.signup_form(page)
    user = {**random_user(), "password": "short"}
    pages.sign_up(page, user)
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("Some fields are invalid.")
    expect(alert).to_contain_text("password")
    expect_kept_except_password(form, user["username"])


# The account's wait the page's refused login must land in: wide enough that
# a busy machine's slowest click still arrives before it ends.
THROTTLED_AT_LEAST_SECONDS = 16


def close_for_a_while(api, username: str) -> None:
    """Fail more logins of ``username`` until its wait is THROTTLED_AT_LEAST_SECONDS or more.

    Each failure past the limit doubles the wait (1 s, 2 s, 4 s …); tries
    during a wait are refused unread, so each one waits for the last to end.
    """
    deadline = time.monotonic() + 120  # bounded, whatever the machine does
    while time.monotonic() < deadline:
        response = api.post("/auth/login", {"username": username, "password": "still-wrong-password"})
        if response.status_code == 429:
            retry_after = int(response.headers["Retry-After"])
            if retry_after >= THROTTLED_AT_LEAST_SECONDS:
                return
            time.sleep(retry_after + 0.2)
        else:
            assert response.status_code == 401, response.text
    pytest.fail(f"{username}'s wait never reached {THROTTLED_AT_LEAST_SECONDS} s")


def test_a_throttled_account_is_shown(open_device, api):
    user = api.create_user()
    page = open_device().page
    form = pages.login_form(page)
    alert = form.get_by_role("alert")
    for attempt in range(int(os.environ.get("LOGIN_MAX_FAILURES", "5"))):
        with page.expect_response("**/auth/login"):
            pages.log_in(page, user["username"], f"wrong-{attempt}-password")
        expect(alert).to_have_text("Invalid username or password.")
    close_for_a_while(api, user["username"])
    with page.expect_response("**/auth/login") as refused:
        pages.log_in(page, user["username"], user["password"])
    assert refused.value.status == 429
    expect(alert).to_have_text("Too many failed attempts for this account; retry later.")
    expect_kept_except_password(form, user["username"])
    expect(form.get_by_role("button", name="Log in")).to_be_enabled()


@pytest.fixture
def stack(base_url):
    """The stack's control command (`make test` sets STACK_CONTROL), healthy again afterwards."""
    command = os.environ.get("STACK_CONTROL")
    if not command:
        pytest.fail("STACK_CONTROL is not set: run the suite with `make test`")
    control = StackControl(shlex.split(command), base_url)
    yield control
    control.run("start", "auth_service")
    control.wait_healthy()


def test_the_api_down_is_shown_and_the_page_recovers(open_device, api, stack):
    user = api.create_user()
    device = open_device()
    page = device.page
    form = pages.login_form(page)
    stack.run("stop", "auth_service")
    with page.expect_response("**/auth/login") as down:
        pages.log_in(page, user["username"], user["password"])
    # nginx's answer: 502 when the port refuses (local), 504 when the address is gone (compose).
    assert down.value.status in (502, 504)
    expect(form.get_by_role("alert")).to_have_text(down.value.json()["message"])
    expect_kept_except_password(form, user["username"])
    device.screenshot("05-api-down")
    stack.run("start", "auth_service")
    stack.wait_healthy()
    form.get_by_label("Password").fill(user["password"])
    form.get_by_role("button", name="Log in").click()
    pages.expect_signed_in(page, user["username"])
