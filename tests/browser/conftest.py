"""Browser-test fixtures: Debian's Chromium, headless, driven by Playwright.

Playwright's own browser download is never used (it needs the internet):
the project installs Debian's ``chromium`` (`make deps`) and Playwright
drives that binary. The page is reached at ``BASE_URL`` like every other
test; screenshots of the main states go to ``.state/screenshots``.

Accessibility is checked without a test asking for it: axe-core
(``pages.expect_accessible``, WCAG 2.1 A and AA) runs at every screenshot,
in the helpers of pages.py that wait for a state, and at the end of every
passing test on each page of the stack that is still open.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.pages import expect_accessible
from tests.browser_binary import CHROMIUM

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".state" / "screenshots"
VIEWPORT = {"width": 1100, "height": 900}

# The machine running the suite may be busy: give the page time to answer.
expect.set_options(timeout=15_000)
# Whether the test's own call passed (set by pytest_runtest_makereport, read by the teardown).
CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test passed, so the final accessibility check runs only then."""
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed
    return report


def origin(url: str) -> str:
    """scheme://host:port of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="session")
def browser(request) -> Browser:
    """The run's one headless Chromium (tests/conftest.py); fails if Debian's chromium is missing."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} is missing: `make deps` installs Debian's chromium")
    chromium: Browser = request.getfixturevalue("chromium_browser")
    return chromium


class Device:
    """One browser profile (its own cookie jar) with the page open; script errors are collected."""

    def __init__(self, context: BrowserContext, page: Page, stack_origins: set[str]):
        self.context = context
        self.page = page
        self.stack_origins = stack_origins
        self.script_errors: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def refresh_cookie(self) -> dict | None:
        """The refresh cookie as the browser stores it (Playwright sees HttpOnly cookies too)."""
        found = [cookie for cookie in self.context.cookies() if cookie["name"] == "authstack_refresh"]
        assert len(found) <= 1, found
        return found[0] if found else None

    def screenshot(self, name: str) -> None:
        """Save a screenshot of the whole page as ``<name>.png``; the state must be accessible."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
        expect_accessible(self.page, name)

    def expect_accessible(self, state: str) -> None:
        """axe-core finds no WCAG 2.1 A/AA violation on any open page of the stack (not others' pages)."""
        for page in self.context.pages:
            if origin(page.url) in self.stack_origins:
                expect_accessible(page, state)


def close_devices(devices: list["Device"], request) -> None:
    """After a test: axe-check each device's open pages if the test passed, close them, then
    fail on any script error the pages raised (every device fixture ends this way)."""
    try:
        if request.node.stash.get(CALL_PASSED, False):
            for device in devices:
                device.expect_accessible(f"end of {request.node.name}")
    finally:
        for device in devices:
            device.context.close()
    for device in devices:
        assert not device.script_errors, device.script_errors


@pytest.fixture
def open_device(browser, base_url, request):
    """Open the page in a fresh browser profile: ``open_device(user_agent=...)``.

    When the test has passed, every page of the stack still open is checked
    with axe-core: the state each test ends in is a state people see.
    """
    devices: list[Device] = []
    # The page is reached at BASE_URL, and at PUBLIC_URL where a test needs a host name.
    stack_origins = {origin(base_url)} | (
        {origin(os.environ["PUBLIC_URL"])} if os.environ.get("PUBLIC_URL") else set()
    )

    def open_one(user_agent: str | None = None) -> Device:
        options = {"base_url": base_url, "viewport": VIEWPORT}
        if user_agent:
            options["user_agent"] = user_agent
        context = browser.new_context(**options)
        device = Device(context, context.new_page(), stack_origins)
        devices.append(device)
        device.page.goto("/")
        return device

    yield open_one
    close_devices(devices, request)
