"""Two-factor authentication on the page, in a real headless Chromium, codes computed by oathtool."""

from playwright.sync_api import expect

from tests.browser import pages
from tests.helpers import random_user
from tests.totp_codes import oathtool_code, wrong_code


def two_factor(page):
    """The "Two-factor authentication" part of the signed-in page."""
    return page.get_by_role("region", name="Two-factor authentication")


def second_step(page):
    """The form of the login's second step."""
    return page.get_by_role("form", name="Two-factor authentication")


def test_set_up_log_in_with_a_code_and_a_recovery_code_turn_off(open_device):
    user = random_user()
    device = open_device()
    page = device.page
    pages.sign_up(page, user)
    expect(pages.notice(page)).to_contain_text("created")
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])
    section = two_factor(page)
    expect(section).to_contain_text("Off")

    # Set up: the QR code (an SVG the page parsed) and the secret as text.
    setup = section.get_by_role("form", name="Set up two-factor authentication")
    setup.get_by_label("Password").fill(user["password"])
    with page.expect_response("**/auth/mfa/totp") as answer:
        setup.get_by_role("button", name="Set up").click()
    uri = answer.value.json()["otpauth_uri"]
    expect(
        section.get_by_role("img", name="QR code for your authenticator app").locator("svg")
    ).to_be_visible()
    expect(section.locator("#totp-secret")).to_have_text(answer.value.json()["secret"])
    device.screenshot("mfa-01-set-up")

    confirm = section.get_by_role("form", name="Confirm two-factor authentication")
    confirm.get_by_label("Code from the app").fill(oathtool_code(uri))
    confirm.get_by_role("button", name="Confirm").click()
    codes = section.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    expect(section).to_contain_text("Recovery codes left: 10")
    device.screenshot("mfa-02-recovery-codes")

    # The trail shows it, each session shows its device as browser and system.
    activity = page.get_by_role("region", name="Recent activity")
    activity.get_by_role("button", name="Update activity").click()
    expect(activity).to_contain_text("Two-factor authentication turned on")
    expect(pages.sessions(page).first).to_contain_text("Chrome on Linux")
    # The address isn't verified yet: the page says so and offers a new link.
    expect(pages.who_am_i(page)).to_contain_text("not verified yet")
    pages.who_am_i(page).get_by_role("button", name="Resend verification").click()
    expect(pages.notice(page)).not_to_be_empty()

    # The page's copy button puts the codes on the clipboard.
    device.context.grant_permissions(["clipboard-read", "clipboard-write"])
    section.get_by_role("button", name="Copy the codes").click()
    expect(pages.notice(page)).to_have_text("Recovery codes copied.")
    assert page.evaluate("navigator.clipboard.readText()").split("\n") == recovery

    # A new device: after the password, the authentication code.
    other = open_device(user_agent="Second device (authstack browser test)")
    pages.log_in(other.page, user["username"], user["password"])
    step = second_step(other.page)
    expect(step).to_be_visible()
    expect(pages.login_form(other.page)).to_be_hidden()
    step.get_by_label("Authentication code").fill(wrong_code(uri))
    step.get_by_role("button", name="Verify").click()
    expect(step.get_by_role("alert")).to_contain_text("wrong")
    step.get_by_label("Authentication code").fill(oathtool_code(uri, steps_ahead=1))
    step.get_by_role("button", name="Verify").click()
    pages.expect_signed_in(other.page, user["username"])
    other.screenshot("mfa-03-signed-in-with-a-code")

    # A third: "Use a recovery code".
    third = open_device(user_agent="Third device (authstack browser test)")
    pages.log_in(third.page, user["username"], user["password"])
    step = second_step(third.page)
    step.get_by_role("button", name="Use a recovery code").click()
    step.get_by_label("Recovery code").fill(recovery[0])
    step.get_by_role("button", name="Verify").click()
    pages.expect_signed_in(third.page, user["username"])
    expect(two_factor(third.page)).to_contain_text("Recovery codes left: 9")

    # Turn it off with the password and another recovery code.
    off = two_factor(third.page).get_by_role("form", name="Turn off two-factor authentication")
    off.get_by_label("Password").fill(user["password"])
    off.get_by_label("Authentication or recovery code").fill(recovery[1])
    off.get_by_role("button", name="Turn off").click()
    expect(pages.notice(third.page)).to_have_text("Two-factor authentication is off.")
    expect(two_factor(third.page)).to_contain_text("Off")
