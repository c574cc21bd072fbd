"""Cookie mode in-process: the origin check and the Secure flag behind a TLS-speaking nginx."""

import secrets

import pytest
from flask import Flask

from auth_app.browser_cookies import CsrfFailed, cookie_mode, own_origin


def request_context(**headers):
    return Flask(__name__).test_request_context("/auth/refresh", method="POST", headers=headers)


def test_own_origin_keeps_the_port_nginx_passes_on():
    with request_context(Host="localhost", **{"X-Forwarded-Host": "localhost:8080"}) as ctx:
        assert own_origin(ctx.request) == "http://localhost:8080"
    with request_context(Host="Example.COM") as ctx:
        assert own_origin(ctx.request) == "http://example.com"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, False),  # no mode header: not cookie mode at all
        ({"X-Auth-Mode": "cookie", "Origin": "http://localhost"}, True),
        ({"X-Auth-Mode": "Cookie", "Sec-Fetch-Site": "same-origin"}, True),
        ({"X-Auth-Mode": "cookie"}, CsrfFailed),
        ({"X-Auth-Mode": "cookie", "Origin": "http://localhost:81"}, CsrfFailed),
        ({"X-Auth-Mode": "cookie", "Origin": "null"}, CsrfFailed),
        ({"X-Auth-Mode": "cookie", "Sec-Fetch-Site": "none"}, CsrfFailed),
        ({"X-Auth-Mode": "cookie", "Origin": "http://localhost", "Sec-Fetch-Site": "same-site"}, CsrfFailed),
    ],
)
def test_cookie_mode_needs_the_header_and_a_same_origin_signal(headers, allowed):
    with request_context(Host="localhost", **headers) as ctx:
        if allowed is CsrfFailed:
            with pytest.raises(CsrfFailed):
                cookie_mode(ctx.request)
        else:
            assert cookie_mode(ctx.request) is allowed


def test_the_cookie_is_secure_when_nginx_speaks_tls(client):
    name = "t-" + secrets.token_hex(5)
    password = "password-1"
    assert client.post(
        "/auth/signup", json={"username": name, "email": f"{name}@example.com", "password": password}
    )
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "auth.example", "X-Auth-Mode": "cookie"}
    login = client.post(
        "/auth/login",
        json={"username": name, "password": password},
        headers={**tls, "Origin": "https://auth.example"},
    )
    assert login.status_code == 200, login.get_data(as_text=True)
    cookie = login.headers["Set-Cookie"]
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    # Over TLS the page's origin is https: an http Origin is another origin.
    refused = client.post("/auth/refresh", headers={**tls, "Origin": "http://auth.example"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "csrf_failed"
