"""The page's mail flows in Chromium: a verification link, "Forgot password?" and the reset link."""

from playwright.sync_api import expect

from tests.browser import pages
from tests.helpers import random_user
from tests.mailbox import RESET_SUBJECT, VERIFY_SUBJECT, token_in, wait_for_mail


def test_the_verification_link_opens_the_page_and_verifies(open_device, api):
    user = random_user()
    device = open_device()
    pages.sign_up(device.page, user)
    message = wait_for_mail(user["email"], VERIFY_SUBJECT)
    token = token_in(message)
    assert f"/verify-email#token={token}" in message["body"]

    device.page.goto(f"/verify-email#token={token}")
    expect(pages.notice(device.page)).to_have_text("Your email address is verified.")
    assert device.page.url.endswith("/"), "the token must leave the address bar"
    # The token was used: the same link again is refused, and the page says so.
    device.page.goto(f"/verify-email#token={token}")
    expect(pages.notice(device.page)).not_to_have_text("Your email address is verified.")
    expect(pages.notice(device.page)).not_to_be_empty()
    pages.log_in(device.page, user["username"], user["password"])
    pages.expect_signed_in(device.page, user["username"])
    assert api.me(api.login(user["username"], user["password"])["access_token"]).json()["email_verified"]


def test_forgot_password_then_the_mailed_link_resets_it(open_device, api):
    user = api.create_user()
    device = open_device()
    page = device.page
    page.get_by_text("Forgot password?").click()
    form = page.get_by_role("form", name="Forgot password")
    form.get_by_label("Email").fill(user["email"])
    with page.expect_response("**/auth/password/forgot") as forgot:
        form.get_by_role("button", name="Send reset link").click()
    assert forgot.value.status == 202
    expect(pages.notice(page)).to_have_text(forgot.value.json()["message"])
    message = wait_for_mail(user["email"], RESET_SUBJECT)
    token = token_in(message)
    assert f"/reset-password#token={token}" in message["body"]

    page.goto(f"/reset-password#token={token}")
    reset = page.get_by_role("form", name="Reset password")
    expect(pages.login_form(page)).to_be_hidden()
    reset.get_by_label("New password").fill("short")
    reset.get_by_role("button", name="Reset password").click()
    expect(reset.get_by_role("alert")).to_contain_text("new password")  # the API's own words, and the field
    new_password = "a brand new passphrase 42"
    reset.get_by_label("New password").fill(new_password)
    reset.get_by_role("button", name="Reset password").click()
    expect(pages.notice(page)).to_contain_text("Your password is reset")
    device.screenshot("08-password-reset")
    pages.log_in(page, user["username"], new_password)
    pages.expect_signed_in(page, user["username"])
