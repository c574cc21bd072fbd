"""Driving the provider's login page: in Chromium (log in, catch the redirect) or over plain HTTP."""

import base64
import hashlib
import re
import secrets
import shutil
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser_binary import CHROMIUM


def require_browser() -> None:
    """Skip where there is no Chromium or Playwright (the compose suite image)."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is missing here (the login page needs a browser)")
    pytest.importorskip("playwright.sync_api")


def expect_accessible(page, state: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the provider's page (the page tests' check)."""
    from tests.browser.pages import expect_accessible as check  # Playwright only where a browser is

    check(page, state)


def catch_redirect(context, redirect_uri: str) -> list[str]:
    """Answer requests to the client's redirect URI with a blank page and collect their URLs."""
    caught: list[str] = []

    def fulfil(route):
        caught.append(route.request.url)
        route.fulfill(status=200, body="signed in", content_type="text/plain")

    context.route(redirect_uri + "*", fulfil)
    return caught


def sign_in_in_browser(chromium, url: str, user: dict, redirect_uri: str) -> str:
    """Open ``url`` in a fresh profile, log in on the provider's page; the URL it redirected to."""
    context = chromium.new_context()
    try:
        caught = catch_redirect(context, redirect_uri)
        page = context.new_page()
        page.goto(url)
        assert page.get_by_label("Username").count() == 1, page.content()
        expect_accessible(page, "single sign-on: the login page")
        log_in(page, user["username"], user["password"])
        deadline = time.monotonic() + 30
        while not caught and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert caught, page.content()
        return caught[0]
    finally:
        context.close()


def log_in(page, username: str, password: str) -> None:
    """Fill the provider's login form and submit it."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


class Browserless:
    """The login page driven over plain HTTP (a requests session keeps the provider's cookie).

    Form posts carry the Origin a browser would send (PUBLIC_URL's), as the
    provider refuses posts from other origins.
    """

    def __init__(self, base_url: str, public_url: str):
        self.base_url, self.public_url = base_url, public_url
        self.http = requests.Session()

    def authorize(self, params: dict) -> "object":
        """GET the authorization endpoint (no redirects followed)."""
        return self.http.get(self.base_url + AUTHORIZE, params=params, allow_redirects=False, timeout=10)

    def post_form(self, page, fields: dict) -> "object":
        """Submit the page's form (its action keeps the request's query) with ``fields``."""
        action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
        return self.http.post(
            self.base_url + action,
            data=fields,
            headers={"Origin": self.public_url},
            allow_redirects=False,
            timeout=10,
        )

    def log_in(self, params: dict, user: dict) -> "object":
        """Authorize, log in on the page; the answer to the login post."""
        page = self.authorize(params)
        assert page.status_code == 200 and "Log in" in page.text, (page.status_code, page.text[:500])
        return self.post_form(
            page, {"step": "login", "username": user["username"], "password": user["password"]}
        )


AUTHORIZE = "/auth/oauth2/authorize"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(response) -> dict:
    """The query parameters of a redirect's Location (one value each)."""
    assert response.status_code == 302, (response.status_code, response.text[:500])
    return {
        name: values[0] for name, values in parse_qs(urlsplit(response.headers["Location"]).query).items()
    }
