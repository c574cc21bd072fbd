"""What a person does on the page, found the way they find it: by role and label.

Every settled state a test reaches is also checked with axe-core
(``expect_accessible``): the helpers below that wait for a state call it,
and so do the ``Device`` fixture's screenshots and its teardown (conftest.py).
"""

import functools
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

SESSION_ENDED = "Your session has ended; log in again."

# axe-core from npm, pinned by tests/browser/axe/package-lock.json (`make venv` installs it).
AXE_SCRIPT = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# The rules of WCAG 2.0 and 2.1, levels A and AA: the page must be WCAG 2.1 AA.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Runs in the page: the violations, each with the elements at fault and what to fix.
RUN_AXE = """tags => axe.run(document, {runOnly: tags, resultTypes: ["violations"]}).then(results =>
    results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
        nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " ")),
    })))"""


@functools.cache
def axe_source() -> str:
    """axe.min.js, read once per run."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: `make venv` installs it (npm ci in tests/browser/axe)")
    return AXE_SCRIPT.read_text()


def expect_accessible(page: Page, state: str) -> None:
    """axe-core finds no WCAG 2.1 A or AA violation in ``page`` as it is now (``state`` names it).

    axe is evaluated through the DevTools protocol (``page.evaluate``), not
    added as a ``<script>`` element: the page's CSP (``script-src 'self'``)
    refuses inline scripts, and ``add_script_tag`` makes one. An evaluation
    is not subject to the CSP, so the page is checked under its real policy
    (no ``bypass_csp`` context, which would also switch off what
    test_page_defences.py checks). After a navigation axe is evaluated again.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    violations = page.evaluate(RUN_AXE, WCAG_21_AA)
    if violations:
        lines = [f"axe-core: {len(violations)} WCAG 2.1 A/AA violation(s) at {state!r} ({page.url}):"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']} {violation['url']}"
            )
            lines += [f"    {node}" for node in violation["nodes"]]
        pytest.fail("\n".join(lines), pytrace=False)


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
    expect_accessible(page, "signed in")


def expect_signed_out(page: Page) -> None:
    """The page offers the log-in form again."""
    expect(login_form(page)).to_be_visible()
    expect(who_am_i(page)).to_be_hidden()
    expect_accessible(page, "signed out")
