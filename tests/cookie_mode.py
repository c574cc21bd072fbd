"""Speaking cookie mode the way a browser on the page does, for tests without a browser."""

from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

COOKIE = "authstack_refresh"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(base_url: str) -> str:
    """The origin a browser would send for a page at ``base_url`` (no default port)."""
    url = urlsplit(base_url)
    port = f":{url.port}" if url.port and url.port != DEFAULT_PORTS.get(url.scheme) else ""
    return f"{url.scheme}://{url.hostname}{port}"


def same_origin(base_url: str, refresh_token: str | None = None) -> dict:
    """Headers of a cookie-mode request from the page itself (and its cookie, if given)."""
    headers = {"X-Auth-Mode": "cookie", "Origin": origin_of(base_url), "Sec-Fetch-Site": "same-origin"}
    if refresh_token is not None:
        headers["Cookie"] = f"{COOKIE}={refresh_token}"
    return headers


def refresh_cookie(response) -> dict | None:
    """The response's Set-Cookie for the refresh cookie: its value and attributes, lower-cased names."""
    header = response.headers.get("Set-Cookie")
    if header is None:
        return None
    morsel = SimpleCookie(header).get(COOKIE)
    assert morsel is not None, header
    attributes = {name.lower(): value for name, value in morsel.items() if value}
    flags = {part.strip().lower() for part in header.split(";")}
    return {
        "value": morsel.value,
        **attributes,
        "httponly": "httponly" in flags,
        "secure": "secure" in flags,
    }


def explicit_cookies_only(api):
    """Make ``api``'s session keep no cookies, so each test says exactly which cookie it sends."""
    api.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return api
