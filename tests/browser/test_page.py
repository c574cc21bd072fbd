"""The page at / in a real headless Chromium: the journey of one user on two devices."""

from playwright.sync_api import expect

from tests.browser import pages
from tests.helpers import random_user


def assert_refresh_token_hidden(device) -> None:
    """Scripts on the page can't see the refresh token: not in document.cookie, not in storage."""
    cookie = device.refresh_cookie()
    assert cookie is not None, "no refresh cookie"
    visible = device.page.evaluate(
        "() => [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)].join(' ')"
    )
    assert cookie["value"] not in visible and cookie["name"] not in visible, visible


def test_sign_up_log_in_reload_two_devices_password_change_log_out(open_device):
    user = random_user()
    first = open_device()
    page = first.page
    pages.expect_signed_out(page)

    pages.sign_up(page, user)
    expect(pages.notice(page)).to_have_text(f"Account {user['username']} created; you can log in now.")
    expect(pages.login_form(page).get_by_label("Username")).to_have_value(user["username"])

    with page.expect_response("**/auth/login") as login:
        pages.log_in(page, user["username"], user["password"])
    assert login.value.status == 200
    assert "refresh_token" not in login.value.json(), "cookie mode must keep the token out of the body"
    pages.expect_signed_in(page, user["username"])  # who am I, from /api/v1/me
    cookie = first.refresh_cookie()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/auth/"), cookie
    assert cookie["secure"] is False, "plain http on 127.0.0.1: a Secure cookie would never come back"
    assert_refresh_token_hidden(first)
    first.screenshot("01-signed-in")

    # The access token lived in memory only: a reload restores the session through the cookie.
    with page.expect_response("**/auth/refresh") as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    pages.expect_signed_in(page, user["username"])
    assert first.refresh_cookie()["value"] != cookie["value"], "the refresh token did not rotate"
    assert_refresh_token_hidden(first)

    second = open_device(user_agent="Second device (authstack browser test)")
    pages.log_in(second.page, user["username"], user["password"])
    pages.expect_signed_in(second.page, user["username"])

    # The first device lists both sessions and logs the other one out from the list.
    pages.sessions_region(page).get_by_role("button", name="Update list").click()
    expect(pages.sessions(page)).to_have_count(2)
    expect(pages.sessions(page).filter(has_text="This device")).to_have_count(1)
    other = pages.sessions(page).filter(has_text="Second device")
    expect(other).not_to_contain_text("This device")
    first.screenshot("02-two-sessions")
    other.get_by_role("button", name="Log out").click()
    expect(pages.notice(page)).to_have_text("That device is logged out.")
    expect(pages.sessions(page)).to_have_count(1)

    # The other device's next API call is refused, and its cookie can't bring the session back.
    with second.page.expect_response("**/api/v1/me") as me:
        pages.who_am_i(second.page).get_by_role("button", name="Who am I").click()
    assert me.value.status == 401
    pages.expect_signed_out(second.page)
    expect(pages.notice(second.page)).to_have_text(pages.SESSION_ENDED)
    assert second.refresh_cookie() is None, "a refused refresh cookie should be cleared"
    second.screenshot("03-session-ended")

    # Back in on the second device; a password change on the first ends it again.
    pages.log_in(second.page, user["username"], user["password"])
    pages.expect_signed_in(second.page, user["username"])
    new_password = user["password"] + "-new"
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill(user["password"])
    form.get_by_label("New password").fill(new_password)
    form.get_by_role("button", name="Change password").click()
    expect(pages.notice(page)).to_have_text("Password changed; your other sessions have ended.")
    expect(form.get_by_label("Current password")).to_have_value("")
    expect(pages.sessions(page)).to_have_count(1)
    with second.page.expect_response("**/api/v1/me") as me:
        pages.who_am_i(second.page).get_by_role("button", name="Who am I").click()
    assert me.value.status == 401
    pages.expect_signed_out(second.page)

    # The first device is still in, and logs out: the cookie goes, and a reload stays signed out.
    pages.who_am_i(page).get_by_role("button", name="Who am I").click()
    pages.expect_signed_in(page, user["username"])
    pages.who_am_i(page).get_by_role("button", name="Log out").click()
    pages.expect_signed_out(page)
    expect(pages.notice(page)).to_have_text("You are logged out.")
    assert first.refresh_cookie() is None
    page.reload()
    pages.expect_signed_out(page)
    first.screenshot("04-logged-out")

    # The new password works, the old one doesn't.
    pages.log_in(page, user["username"], user["password"])
    expect(pages.login_form(page).get_by_role("alert")).to_have_text("Invalid username or password.")
    pages.log_in(page, user["username"], new_password)
    pages.expect_signed_in(page, user["username"])


def test_log_out_everywhere_ends_every_device(open_device, api):
    user = api.create_user()
    first, second = open_device(), open_device(user_agent="Second device (authstack browser test)")
    for device in (first, second):
        pages.log_in(device.page, user["username"], user["password"])
        pages.expect_signed_in(device.page, user["username"])
    pages.sessions_region(first.page).get_by_role("button", name="Log out everywhere").click()
    pages.expect_signed_out(first.page)
    expect(pages.notice(first.page)).to_have_text("You are logged out on every device.")
    assert first.refresh_cookie() is None
    pages.who_am_i(second.page).get_by_role("button", name="Who am I").click()
    pages.expect_signed_out(second.page)
    expect(pages.notice(second.page)).to_have_text(pages.SESSION_ENDED)


def test_two_tabs_reloading_at_once_keep_the_session(open_device, api):
    """Both tabs refresh with the one cookie; taken in turn (a Web Lock), neither looks like theft."""
    user = api.create_user()
    device = open_device()
    pages.log_in(device.page, user["username"], user["password"])
    pages.expect_signed_in(device.page, user["username"])
    tabs = [device.page, device.context.new_page()]
    tabs[1].goto("/")
    pages.expect_signed_in(tabs[1], user["username"])
    for _ in range(3):
        with tabs[0].expect_response("**/auth/refresh"), tabs[1].expect_response("**/auth/refresh"):
            for tab in tabs:
                tab.evaluate("setTimeout(() => location.reload(), 0)")
        for tab in tabs:
            pages.expect_signed_in(tab, user["username"])
    pages.sessions_region(tabs[0]).get_by_role("button", name="Update list").click()
    expect(pages.sessions(tabs[0])).to_have_count(1)
    expect(pages.notice(tabs[0])).to_have_text("")
