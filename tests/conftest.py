"""Integration-test fixtures: the suite only knows ``BASE_URL`` (nginx).

It runs unchanged against the local stack (`make test`) and the compose
stack. Layered like flaskr's: ``base_url`` -> ``http`` -> ``new_user`` /
``logged_in``; each test makes its own users, so order never matters.
"""

import pytest
import requests

from tests.helpers import Api
from tests.stack_env import stack_setting


@pytest.fixture(scope="session")
def base_url() -> str:
    """The stack's one public address; the tests fail loudly without it."""
    return stack_setting("BASE_URL").rstrip("/")


@pytest.fixture
def api(base_url):
    """An HTTP client for the stack, with helpers for the common flows."""
    with requests.Session() as session:
        yield Api(base_url, session)


@pytest.fixture
def new_user(api):
    """A freshly signed-up user (dict with username, email, password, id)."""
    return api.create_user()


@pytest.fixture
def logged_in(api, new_user):
    """``new_user`` plus the token response of a login."""
    return {**new_user, **api.login(new_user["username"], new_user["password"])}


@pytest.fixture(scope="session")
def admin_credentials() -> dict:
    """The admin that `make test` creates with the admin command before the suite."""
    return {"username": stack_setting("ADMIN_USERNAME"), "password": stack_setting("ADMIN_PASSWORD")}


@pytest.fixture
def admin_token(api, admin_credentials) -> str:
    """A fresh access token of the admin."""
    return api.login(admin_credentials["username"], admin_credentials["password"])["access_token"]


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium (Debian's, driven by Playwright) for every browser test of the run.

    One per pytest process: a second ``sync_playwright()`` while the first
    runs fails ("Sync API inside the asyncio loop"), so the page's tests
    (tests/browser) and the relying parties' (tests/oidc) share this one.
    Imported here, not at the top: the compose suite image has no Playwright.
    """
    from playwright.sync_api import sync_playwright

    from tests.browser_binary import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
