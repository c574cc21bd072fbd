"""What a person does on the page, found the way they find it: by role and label."""

from playwright.sync_api import Locator, Page, expect

SESSION_ENDED = "Your session has ended; log in again."


def login_form(page: Page) -> Locator:
    """The "Log in" form."""
    return page.get_by_role("form", name="Log in")


def signup_form(page: Page) -> Locator:
    """The "Sign up" form."""
    return page.get_by_role("form", name="Sign up")


def who_am_i(page: Page) -> Locator:
    """The "Who am I" part of the signed-in page."""
    return page.get_by_role("region", name="Who am I")


def sessions_region(page: Page) -> Locator:
    """The "My sessions" part of the signed-in page."""
    return page.get_by_role("region", name="My sessions")


def sessions(page: Page) -> Locator:
    """The items of the session list."""
    return page.get_by_role("list", name="My sessions").get_by_role("listitem")


def notice(page: Page) -> Locator:
    """The page's status line."""
    return page.get_by_role("status")


def sign_up(page: Page, user: dict) -> None:
    """Fill in and send the sign-up form."""
    form = signup_form(page)
    form.get_by_label("Username").fill(user["username"])
    form.get_by_label("Email").fill(user["email"])
    form.get_by_label("Password").fill(user["password"])
    form.get_by_role("button", name="Sign up").click()


def log_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the log-in form."""
    form = login_form(page)
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log in").click()


def expect_signed_in(page: Page, username: str) -> None:
    """The page shows the signed-in user (from /api/v1/me)."""
    expect(who_am_i(page)).to_be_visible()
    expect(who_am_i(page)).to_contain_text(username)
    expect(login_form(page)).to_be_hidden()


def expect_signed_out(page: Page) -> None:
    """The page offers the log-in form again."""
    expect(login_form(page)).to_be_visible()
    expect(who_am_i(page)).to_be_hidden()
