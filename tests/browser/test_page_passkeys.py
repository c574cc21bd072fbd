"""Passkeys on the page, in a real headless Chromium with a CDP virtual authenticator.

Chromium's own WebAuthn stack makes and uses the credentials (ctap2,
internal transport, resident keys, user verification), so the page's
``parseCreationOptionsFromJSON`` / ``parseRequestOptionsFromJSON`` /
``toJSON()`` and the server's checks meet real browser output. The page is
opened at ``PUBLIC_URL`` (``http://localhost:<port>``): an IP address can't be
a WebAuthn RP ID, and the origin must be the one the stack expects.
"""

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.conftest import VIEWPORT, Device, close_devices, origin
from tests.helpers import random_user
from tests.stack_env import stack_setting


def two_factor(page):
    """The "Two-factor authentication" part of the signed-in page."""
    return page.get_by_role("region", name="Two-factor authentication")


def passkeys_region(page):
    """The "Passkeys" part of the signed-in page."""
    return page.get_by_role("region", name="Passkeys")


class PasskeyDevice(Device):
    """A browser profile at PUBLIC_URL with its own virtual authenticator."""

    def __init__(self, context, page, authenticator_id: str, cdp):
        super().__init__(context, page, {origin(stack_setting("PUBLIC_URL"))})
        self.authenticator_id = authenticator_id
        self.cdp = cdp

    def set_user_verified(self, verified: bool) -> None:
        """What the authenticator answers to "verify the user" (a PIN or fingerprint) from now on."""
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.authenticator_id, "isUserVerified": verified}
        )

    def add_credential(self, credential: dict) -> None:
        """Put a credential (as ``credentials`` lists it, private key included) on this authenticator."""
        self.cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": self.authenticator_id, "credential": credential}
        )

    def swap_authenticator(self, user_verification: bool) -> None:
        """Replace the authenticator by a new one holding the same credentials."""
        held = self.credentials()
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id})
        self.authenticator_id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": authenticator_options(user_verification)}
        )["authenticatorId"]
        for credential in held:
            self.add_credential(credential)

    def credentials(self) -> list[dict]:
        """The credentials the virtual authenticator holds."""
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})[
            "credentials"
        ]


def authenticator_options(user_verification: bool) -> dict:
    """A platform authenticator (ctap2, internal, resident keys), with or without user verification."""
    return {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": user_verification,
        "isUserVerified": user_verification,
        "automaticPresenceSimulation": True,
    }


@pytest.fixture
def open_passkey_device(browser, request):
    """Open the page at PUBLIC_URL in a fresh profile with a virtual platform authenticator.

    As with ``open_device``, a passing test's open pages are checked with axe-core at its end.
    """
    public_url = stack_setting("PUBLIC_URL").rstrip("/")
    devices: list[PasskeyDevice] = []

    def open_one(user_verification: bool = True) -> PasskeyDevice:
        context = browser.new_context(base_url=public_url, viewport=VIEWPORT)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        added = cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": authenticator_options(user_verification)}
        )
        device = PasskeyDevice(context, page, added["authenticatorId"], cdp)
        devices.append(device)
        page.goto("/")
        return device

    yield open_one
    close_devices(devices, request)


def amr_of(page, tokens: dict) -> list[str]:
    """The ``amr`` of an access token the page just got (asked of /api/v1/me like any client)."""
    me = page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.ok, me.text()
    return me.json()["amr"]


def log_out(page) -> None:
    pages.who_am_i(page).get_by_role("button", name="Log out").click()
    pages.expect_signed_out(page)


def sign_in_with_passkey(page) -> dict:
    """Click "Sign in with a passkey"; the token answer the page got."""
    page.bring_to_front()  # WebAuthn answers only a focused page
    try:
        with page.expect_response("**/auth/passkeys/login") as answer:
            pages.login_form(page).get_by_role("button", name="Sign in with a passkey").click()
    except Exception:
        raise AssertionError(pages.login_form(page).get_by_role("alert").inner_text()) from None
    assert answer.value.ok, answer.value.text()
    return answer.value.json()


def test_add_sign_in_without_password_second_factor_and_remove(open_passkey_device):
    user = random_user()
    device = open_passkey_device()
    page = device.page
    pages.sign_up(page, user)
    expect(pages.notice(page)).to_contain_text("created")
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])

    # Add a passkey: Chromium makes it, the page sends credential.toJSON().
    section = passkeys_region(page)
    form = section.get_by_role("form", name="Add a passkey")
    form.get_by_label("Passkey name").fill("laptop")
    form.get_by_role("button", name="Add a passkey").click()
    expect(pages.notice(page)).to_contain_text("Passkey laptop added")
    listed = section.get_by_role("list", name="My passkeys").get_by_role("listitem")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("laptop")
    expect(listed.first).to_contain_text("never used")
    # The first second factor: recovery codes, shown once, and two-step login on.
    codes = two_factor(page).get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(two_factor(page)).to_contain_text("1 passkey(s)")
    assert [c["isResidentCredential"] for c in device.credentials()] == [True]

    # Sign in without a password; the authenticator verified the user: hwk + mfa.
    log_out(page)
    tokens = sign_in_with_passkey(page)
    pages.expect_signed_in(page, user["username"])
    assert amr_of(page, tokens) == ["hwk", "mfa"]
    expect(passkeys_region(page).get_by_role("listitem").first).to_contain_text("last used")

    # As the second factor after a password.
    log_out(page)
    pages.log_in(page, user["username"], user["password"])
    step = page.get_by_role("form", name="Two-factor authentication")
    expect(step).to_be_visible()
    with page.expect_response("**/auth/login/mfa") as answer:
        step.get_by_role("button", name="Use a passkey").click()
    assert answer.value.ok, answer.value.text()
    pages.expect_signed_in(page, user["username"])
    assert amr_of(page, answer.value.json()) == ["hwk", "mfa", "pwd"]

    # The authenticator can't verify its user this time: Chromium then won't offer a
    # discoverable passkey at all; the page shows the refusal and nothing opens. (A
    # sign-in without user verification, amr ["hwk"], is proven in tests/test_passkeys.py
    # with the software authenticator.)
    device.set_user_verified(False)
    log_out(page)
    pages.login_form(page).get_by_role("button", name="Sign in with a passkey").click()
    expect(pages.login_form(page).get_by_role("alert")).not_to_be_empty()
    pages.expect_signed_out(page)

    # A key without user verification holding the same credential, as the second step
    # after the password (the options name the credential): password and possession.
    device.swap_authenticator(user_verification=False)
    pages.log_in(page, user["username"], user["password"])
    with page.expect_response("**/auth/login/mfa") as answer:
        page.get_by_role("form", name="Two-factor authentication").get_by_role(
            "button", name="Use a passkey"
        ).click()
    assert answer.value.ok, answer.value.text()
    pages.expect_signed_in(page, user["username"])
    assert amr_of(page, answer.value.json()) == ["hwk", "mfa", "pwd"]
    key = device

    # Remove it (the key's session is fresh): the list empties, two-step is off.
    section = passkeys_region(key.page)
    section.get_by_role("button", name="Remove laptop").click()
    expect(pages.notice(key.page)).to_contain_text("Passkey laptop removed")
    expect(section.get_by_role("list", name="My passkeys").get_by_role("listitem")).to_have_count(0)
    expect(two_factor(key.page)).to_contain_text("Off")
    # (Screenshots only now: a full-page one blurs the page, and WebAuthn then refuses.)
    key.screenshot("passkeys-removed")
    # The authenticator still holds the credential, but the stack no longer knows it.
    key.swap_authenticator(user_verification=True)
    assert len(key.credentials()) == 1
    log_out(key.page)
    pages.login_form(key.page).get_by_role("button", name="Sign in with a passkey").click()
    expect(pages.login_form(key.page).get_by_role("alert")).to_contain_text("could not be verified")
    pages.expect_signed_out(key.page)


def test_another_authenticator_without_the_credential_cannot_sign_in(open_passkey_device):
    user = random_user()
    owner = open_passkey_device()
    pages.sign_up(owner.page, user)
    expect(pages.notice(owner.page)).to_contain_text("created")
    pages.log_in(owner.page, user["username"], user["password"])
    form = passkeys_region(owner.page).get_by_role("form", name="Add a passkey")
    form.get_by_label("Passkey name").fill("phone")
    form.get_by_role("button", name="Add a passkey").click()
    expect(pages.notice(owner.page)).to_contain_text("Passkey phone added")

    stranger = open_passkey_device()
    page = stranger.page
    pages.expect_signed_out(page)
    page.bring_to_front()
    pages.login_form(page).get_by_role("button", name="Sign in with a passkey").click()
    # The browser finds no passkey for this site on this authenticator: nothing is sent, nothing opens.
    expect(pages.login_form(page).get_by_role("alert")).not_to_be_empty()
    pages.expect_signed_out(page)
    assert stranger.credentials() == []
