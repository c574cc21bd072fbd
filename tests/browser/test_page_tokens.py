"""The page's "Access tokens" part: create a token, see it once, copy it, use it, revoke it."""

import re

from playwright.sync_api import expect

from tests.browser import pages


def token_form(page):
    """The "Access tokens" form."""
    return page.get_by_role("form", name="Access tokens")


def token_list(page):
    """The items of the token list."""
    return page.get_by_role("list", name="Access tokens").get_by_role("listitem")


def test_create_copy_use_and_revoke_a_token(open_device, api, base_url):
    user = api.create_user()
    device = open_device()
    device.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = device.page
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])
    expect(token_list(page)).to_have_count(0)

    form = token_form(page)
    form.get_by_label("Name").fill("nightly backup")
    form.get_by_label("Expires in (days)").fill("7")
    form.get_by_role("button", name="Create").click()
    expect(pages.notice(page)).to_have_text(
        "Token nightly backup created; copy it now, it is shown only once."
    )
    shown = page.get_by_label("Your new token: copy it now, it is shown only this once")
    expect(shown).to_have_value(re.compile(r"^pat_[A-Za-z0-9_-]{49}$"))
    token = shown.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(pages.notice(page)).to_have_text("Token copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    expect(token_list(page)).to_have_count(1)
    expect(token_list(page).first).to_contain_text("nightly backup")
    expect(token_list(page).first).to_contain_text("never used")
    device.screenshot("tokens-created")

    me = api.me(token)
    assert me.status_code == 200 and me.json()["username"] == user["username"]

    token_list(page).first.get_by_role("button", name="Revoke nightly backup").click()
    expect(pages.notice(page)).to_have_text("Token nightly backup revoked.")
    expect(token_list(page)).to_have_count(0)
    assert api.me(token).status_code == 401

    # Logging out takes the shown token off the screen.
    pages.who_am_i(page).get_by_role("button", name="Log out", exact=True).click()
    pages.expect_signed_out(page)
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])
    expect(shown).to_be_hidden()


def test_a_bad_name_or_expiry_is_shown_beside_the_form(open_device, api):
    user = api.create_user()
    page = open_device().page
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])
    form = token_form(page)
    form.get_by_label("Name").fill("a year and more")
    form.get_by_label("Expires in (days)").fill("400")
    form.get_by_role("button", name="Create").click()
    expect(form.get_by_role("alert")).to_contain_text("must be a whole number of days, 1-365")
    expect(token_list(page)).to_have_count(0)
