"""The browser page's files as nginx serves them: types, security headers, caching, nothing else."""

import re

import pytest

from tests.helpers import assert_error

FILES = {
    "/": "text/html",
    "/app.js": "text/javascript",
    "/app.css": "text/css",
    # The mailed links open the page itself.
    "/reset-password": "text/html",
    "/verify-email": "text/html",
}


@pytest.mark.parametrize(("path", "media_type"), FILES.items())
def test_each_file_is_served_with_its_type_and_the_page_headers(api, path, media_type):
    response = api.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(response.headers["X-Request-ID"]) >= 16
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", FILES)
def test_files_are_revalidated_not_refetched(api, path):
    first = api.get(path)
    assert first.headers["Cache-Control"] == "no-cache"
    again = api.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_page_has_no_inline_script_or_style(api):
    html = api.get("/").text
    assert html.count("<script") == 1 and '<script src="/app.js" defer></script>' in html
    assert "<style" not in html and not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"


@pytest.mark.parametrize(
    "path", ["/index.html", "/app.js.map", "/web/app.js", "/APP.JS", "/app.css/", "/.git/config"]
)
def test_nothing_else_is_served(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_api_answers_keep_their_own_headers(api):
    response = api.get("/api/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response.headers
