"""Browser-test fixtures: Debian's Chromium, headless, driven by Playwright.

Playwright's own browser download is never used (it needs the internet):
the project installs Debian's ``chromium`` (`make deps`) and Playwright
drives that binary. The page is reached at ``BASE_URL`` like every other
test; screenshots of the main states go to ``.state/screenshots``.
"""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".state" / "screenshots"
VIEWPORT = {"width": 1100, "height": 900}

# The machine running the suite may be busy: give the page time to answer.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Browser:
    """One headless Chromium for the whole run."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} is missing: `make deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Device:
    """One browser profile (its own cookie jar) with the page open; script errors are collected."""

    def __init__(self, context: BrowserContext, page: Page):
        self.context = context
        self.page = page
        self.script_errors: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def refresh_cookie(self) -> dict | None:
        """The refresh cookie as the browser stores it (Playwright sees HttpOnly cookies too)."""
        found = [cookie for cookie in self.context.cookies() if cookie["name"] == "authstack_refresh"]
        assert len(found) <= 1, found
        return found[0] if found else None

    def screenshot(self, name: str) -> None:
        """Save a screenshot of the whole page as ``<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def open_device(browser, base_url):
    """Open the page in a fresh browser profile: ``open_device(user_agent=...)``."""
    devices: list[Device] = []

    def open_one(user_agent: str | None = None) -> Device:
        options = {"base_url": base_url, "viewport": VIEWPORT}
        if user_agent:
            options["user_agent"] = user_agent
        context = browser.new_context(**options)
        device = Device(context, context.new_page())
        devices.append(device)
        device.page.goto("/")
        return device

    yield open_one
    for device in devices:
        device.context.close()
    for device in devices:
        assert not device.script_errors, device.script_errors
