"""nginx in front: routing, limits, request ids, JSON errors, no banners; health routes."""

import pytest

from tests.helpers import assert_error


@pytest.mark.parametrize("path", ["/auth/healthz", "/api/healthz"])
def test_health_routes_answer_ok(api, path):
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path", ["/index.html", "/web/app.js", "/admin", "/auth", "/apix/v1/me", "/auth/nothing"]
)
def test_unknown_paths_are_404_json(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_bodies_over_the_limit_are_413_json(api):
    response = api.request(
        "POST", "/auth/signup", data=b"{" + b" " * 20_000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")


def test_request_id_is_created_and_returned(api):
    response = api.get("/api/healthz")
    assert len(response.headers["X-Request-ID"]) >= 16


def test_a_plain_client_request_id_is_kept_and_a_hostile_one_replaced(api):
    assert api.get("/api/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    hostile = api.get("/api/healthz", headers={"X-Request-ID": 'x" onload=alert(1) ' + "y" * 100})
    assert hostile.headers["X-Request-ID"] != "abc-123"
    assert " " not in hostile.headers["X-Request-ID"]


def test_no_version_banners(api, logged_in):
    for response in (api.get("/nope"), api.get("/api/v1/me", token=logged_in["access_token"])):
        assert response.headers.get("Server", "nginx") == "nginx"
        assert "gunicorn" not in str(response.headers).lower()
        assert "X-Powered-By" not in response.headers


def test_token_responses_are_not_cacheable(api, new_user):
    response = api.post("/auth/login", {"username": new_user["username"], "password": new_user["password"]})
    assert response.headers["Cache-Control"] == "no-store"


def test_trace_is_refused_405_json(api):
    response = api.request("TRACE", "/api/healthz")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/auth//login"), ("GET", "/api//v1/me"), ("POST", "/auth/login/"), ("GET", "/api/v1//me")],
)
def test_odd_slashes_are_json_404_never_a_redirect_built_from_host(api, method, path):
    response = api.request(method, path, json={}, headers={"Host": "attacker.example"}, allow_redirects=False)
    assert_error(response, 404, "not_found")
    assert "Location" not in response.headers


def test_oversized_headers_and_request_lines_are_431_json(api):
    assert_error(
        api.get("/api/v1/me", headers={"Authorization": "Bearer " + "a" * 9000}), 431, "headers_too_large"
    )
    assert_error(api.get("/api/" + "a" * 9000), 431, "headers_too_large")


def test_a_garbled_request_line_is_400_json(base_url):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port or 80), timeout=5) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 400")
    assert '{"error":"bad_request"' in reply


@pytest.mark.parametrize("path", ["/auth/healthz", "/api/healthz", "/api/v1/me"])
def test_client_sent_proxy_scheme_headers_change_nothing(api, logged_in, path):
    # gunicorn refuses (400) an X-Forwarded-Ssl or -Protocol that contradicts
    # nginx's X-Forwarded-Proto: nginx drops the client's copies.
    headers = {
        "X-Forwarded-Ssl": "on",
        "X-Forwarded-Protocol": "https",
        "Authorization": f"Bearer {logged_in['access_token']}",
    }
    response = api.get(path, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        # The gateway prefix without its slash: once nginx's HTML 301 to the client's Host.
        ("/app", {}, 404, "not_found"),
        ("/app?next=1", {}, 404, "not_found"),
        ("/auth", {}, 404, "not_found"),
        ("/api", {}, 404, "not_found"),
        # nginx's own answers for the page's static files.
        ("/app.js", {"Range": "bytes=999999999-"}, 416, "range_not_satisfiable"),
        ("/app.js", {"If-Match": '"not-the-etag"'}, 412, "precondition_failed"),
        ("/app.js", {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 412, "precondition_failed"),
    ],
)
def test_nginx_redirects_and_errors_are_json_with_no_location_from_host(api, path, headers, status, code):
    response = api.get(path, headers={"Host": "attacker.example", **headers}, allow_redirects=False)
    assert_error(response, status, code)
    assert "<html" not in response.text.lower()
    assert "Location" not in response.headers, response.headers
