"""Battery 3: input and protocol, each case a real request through nginx.

Wrong or missing content types are 415 on every JSON route; bodies that are
not one plain JSON object (malformed, absurdly deep, huge numbers, NaN, lone
surrogates, invalid UTF-8, BOM, other top-level values) are 400; bodies over
16 KiB are 413, however their length is declared; odd methods are 405 (or
nginx's 400/404); broken framing and protocol versions are refused in JSON;
slow clients are cut off. Every response of both batteries is checked by
tests/security/conftest.py to be generic JSON from ``Server: nginx`` with no
version, framework name, HTML or traceback.

Extends, never repeats, tests/test_signup.py (signup's basic 400/415 cases)
and tests/test_nginx_and_health.py (404s, one 413, 431s, TRACE on one path,
one garbled request line).
"""

import json
import socket
import time

import pytest

from tests.helpers import assert_error, random_user
from tests.security.conftest import record_raw

JSON = {"Content-Type": "application/json"}


def _bodies(victim) -> dict[str, dict]:
    """A valid JSON object for each route, so only the property under test is wrong."""
    return {
        "/auth/signup": random_user(),
        "/auth/login": {"username": "nobody-" + victim["username"], "password": "not-the-password"},
        "/auth/refresh": {"refresh_token": "rt_" + "A" * 43},
        "/auth/password": {"current_password": "not-the-password", "new_password": "another-password-1"},
    }


JSON_ROUTES = ["/auth/signup", "/auth/login", "/auth/refresh", "/auth/password"]


def _post(api, victim, path: str, **kwargs):
    """POST to a JSON route; /auth/password gets the victim's bearer token (it checks it first)."""
    headers = kwargs.pop("headers", {})
    if path == "/auth/password":
        headers = {**headers, "Authorization": f"Bearer {victim['access_token']}"}
    return api.request("POST", path, headers=headers, **kwargs)


def test_a_genuine_request_works_on_each_json_route(api, victim):
    """The control: the stack answers these routes normally, so the refusals below mean something."""
    for path, body in _bodies(victim).items():
        response = _post(api, victim, path, data=json.dumps(body), headers=JSON)
        expected = {"/auth/signup": 201, "/auth/login": 401, "/auth/refresh": 401, "/auth/password": 422}
        assert response.status_code == expected[path], (path, response.text)
    assert api.me(victim["access_token"]).status_code == 200


# ---------------------------------------------------------------------------
# 415: the body is not application/json

CONTENT_TYPES = [
    None,
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "text/json",
    "text/html",
    "application/xml",
    "application/jsonp",
    "application/json5",
    "application/problem+json",
    "application/vnd.api+json",
    "application/json-patch+json",
    "application/octet-stream",
    "json",
    "application/",
    "*/*",
    "application/*",
]
# tests/test_signup.py already covers these on /auth/signup.
_COVERED_ON_SIGNUP = {None, "text/plain", "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        pytest.param(path, content_type, id=f"{path}-{content_type!r}")
        for path in JSON_ROUTES
        for content_type in CONTENT_TYPES
        if not (path == "/auth/signup" and content_type in _COVERED_ON_SIGNUP)
    ],
)
def test_a_body_that_is_not_application_json_is_415(api, victim, path, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps(_bodies(victim)[path]).encode()
    assert_error(_post(api, victim, path, data=body, headers=headers), 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    [
        "APPLICATION/JSON",
        "Application/Json; charset=UTF-8",
        "application/json;charset=utf-8",
        "application/json ; x=y",
    ],
)
def test_media_type_names_are_case_insensitive_and_take_parameters(api, victim, content_type):
    """RFC 9110 section 8.3.1: these are application/json, so not 415 (the control of the 415 cases)."""
    body = json.dumps(_bodies(victim)["/auth/login"])
    response = api.request("POST", "/auth/login", data=body, headers={"Content-Type": content_type})
    assert_error(response, 401, "invalid_credentials")


# ---------------------------------------------------------------------------
# 400: not one plain JSON object

BAD_BODIES = {
    "not-json": b"{not json",
    "empty": b"",
    "whitespace-only": b"  \n\t ",
    "array": b"[1, 2]",
    "empty-array": b"[]",
    "string": b'"a string"',
    "null": b"null",
    "true": b"true",
    "number": b"1",
    "deep-arrays-5000": b"[" * 5000 + b"]" * 5000,
    "deep-arrays-8000-unclosed": b"[" * 8000,
    "deep-objects-2500": b'{"a":' * 2500 + b"1" + b"}" * 2500,
    "deep-inside-a-field": b'{"username":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "exponent-1e999999": b'{"username": 1e999999, "password": "x"}',
    "exponent-minus-1e999999": b'{"username": -1e999999, "password": "x"}',
    "integer-5000-digits": b'{"username": ' + b"9" * 5000 + b', "password": "x"}',
    "integer-minus-5000-digits": b'{"username": -' + b"9" * 5000 + b"}",
    "integer-5000-digits-top-level": b"9" * 5000,
    "NaN": b'{"username": NaN}',
    "nan-lowercase": b'{"username": nan}',
    "Infinity": b'{"username": Infinity}',
    "minus-Infinity": b'{"username": -Infinity}',
    "lone-high-surrogate": b'{"username": "\\ud800"}',
    "lone-low-surrogate": b'{"username": "\\udfff", "password": "abcdefghij"}',
    "reversed-surrogate-pair": b'{"username": "\\udc00\\ud800"}',
    "surrogate-in-a-key": b'{"\\ud800": 1, "username": "a"}',
    "invalid-utf8": b'{"username": "\xc3\x28", "password": "abcdefghij"}',
    "overlong-utf8": b'{"username": "\xc0\xaf"}',
    "utf8-encoded-surrogate": b'{"username": "\xed\xa0\x80"}',
    "truncated-utf8": b'{"username": "\xe2\x82"}',
    "latin1-byte": b'{"username": "\xe9"}',
    "ff-fe": b"\xff\xfe{}",
    "bom-utf8": b"\xef\xbb\xbf{}",
    "utf16-body": '{"username": "a"}'.encode("utf-16"),
    "trailing-garbage": b"{} x",
    "two-objects": b"{} {}",
    "trailing-comma": b'{"username": "a",}',
    "single-quotes": b"{'username': 'a'}",
    "comment": b'{"username": "a" /* hi */}',
    "unquoted-key": b"{username: 1}",
    "nul-after": b"{}\x00",
    "unterminated-string": b'{"username": "a',
    "raw-control-char-in-string": b'{"username": "a\x01b"}',
    "hex-number": b'{"username": 0x10}',
    "leading-zero": b'{"username": 01}',
    "plus-number": b'{"username": +1}',
}
# tests/test_signup.py::test_bodies_that_are_not_a_json_object_are_400 already sends these to /auth/signup.
_BODIES_COVERED_ON_SIGNUP = {
    "not-json",
    "empty",
    "array",
    "string",
    "null",
    "deep-arrays-5000",
    "NaN",
    "lone-high-surrogate",
    "ff-fe",
}


@pytest.mark.parametrize(
    ("path", "case"),
    [
        pytest.param(path, case, id=f"{path}-{case}")
        for path in JSON_ROUTES
        for case in BAD_BODIES
        if not (path == "/auth/signup" and case in _BODIES_COVERED_ON_SIGNUP)
    ],
)
def test_a_body_that_is_not_one_json_object_is_400(api, victim, path, case):
    body = BAD_BODIES[case]
    assert len(body) <= 16 * 1024, "within nginx's body limit, so the service itself must refuse it"
    assert_error(_post(api, victim, path, data=body, headers=JSON), 400, "bad_request")


def test_100000_brackets_do_not_fit_the_body_limit(api, victim):
    """100,000 nested brackets are 100+ KB: nginx refuses them (413) before any parser sees them."""
    for body in (b"[" * 100_000 + b"]" * 100_000, b"[" * 100_000, b'{"a":' * 100_000):
        for path in JSON_ROUTES:
            assert_error(_post(api, victim, path, data=body, headers=JSON), 413, "payload_too_large")


# ---------------------------------------------------------------------------
# 413: over 16 KiB, however the length is told


def _padded_object(size: int, victim) -> bytes:
    """A valid JSON object of exactly ``size`` bytes (whitespace before the closing brace)."""
    prefix = b'{"username": "nobody-x", "password": "not-the-password"'
    assert size >= len(prefix) + 1
    return prefix + b" " * (size - len(prefix) - 1) + b"}"


@pytest.mark.parametrize("size", [16 * 1024, 16 * 1024 + 1, 64 * 1024, 1024 * 1024])
@pytest.mark.parametrize("path", JSON_ROUTES)
def test_bodies_over_16_kib_are_413_and_up_to_16_kib_are_read(api, victim, path, size):
    body = _padded_object(size, victim)
    response = _post(api, victim, path, data=body, headers=JSON)
    if size <= 16 * 1024:
        assert response.status_code in (401, 422), (response.status_code, response.text)
    else:
        assert_error(response, 413, "payload_too_large")


def _raw_headers(path: str, headers: list[tuple[str, str]], victim=None) -> list[tuple[str, str]]:
    headers = [("Content-Type", "application/json"), *headers]
    if path == "/auth/password":
        headers.append(("Authorization", f"Bearer {victim['access_token']}"))
    return headers


def _first_response(raw_http, path: str, headers: list[tuple[str, str]], body: bytes) -> int:
    """Send a request, read only the first response (nginx then lingers for the body we never send).

    The rest of the promised body is never sent: had nginx waited for it, its
    client_body_timeout (10 s) would end the request with a 408, not a 413.
    So the status alone shows the refusal came first, however busy the machine.
    """
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", *(f"{n}: {v}" for n, v in headers)]
    with raw_http.connect(timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status, response_headers, response_body = _read_head(sock)
    record_raw(f"POST {path} {headers}", status, response_headers, response_body)
    assert response_headers["content-type"].startswith("application/json")
    return status


@pytest.mark.parametrize("declared", ["16385", "1000000000", "99999999999999"])
@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_content_length_over_the_limit_is_413_at_once(raw_http, victim, path, declared):
    """Declared more than 16 KiB, sent 2 bytes: refused on the declaration, without waiting for the body."""
    headers = _raw_headers(path, [("Content-Length", declared)], victim)
    status = _first_response(raw_http, path, headers, b"{}")
    assert status == 413, status


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response (headers and a Content-Length body) from an open socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split(" ")[1]), headers, rest[:length]


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_expect_100_continue_over_the_limit_is_413_before_the_body(raw_http, victim, path):
    headers = _raw_headers(path, [("Content-Length", "20000"), ("Expect", "100-continue")], victim)
    status = _first_response(raw_http, path, headers, b"")
    assert status == 413, status


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_content_length_smaller_than_the_body_smuggles_nothing(raw_http, victim, path):
    """Declared 2 bytes, sent 20 KB: the service reads 2 bytes (400); the rest is no request (400)."""
    big = b'{"username": "a", "password": "' + b"x" * 20_000 + b'"}'
    headers = _raw_headers(path, [("Content-Length", "2")], victim)
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", *(f"{n}: {v}" for n, v in headers)]
    responses = raw_http.send(("\r\n".join(lines) + "\r\n\r\n").encode() + big, timeout=10)
    assert [r.status for r in responses] == [400, 400], [(r.status, r.body) for r in responses]
    assert all(r.json()["error"] == "bad_request" for r in responses)


def _chunked(body: bytes, size: int = 4000) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_chunked_bodies_over_the_limit_are_413(raw_http, victim, path):
    big = b'{"username": "a", "password": "' + b"x" * 20_000 + b'"}'
    headers = _raw_headers(path, [("Transfer-Encoding", "chunked")], victim)
    response = raw_http.request("POST", path, headers, _chunked(big))
    assert_error_raw(response, 413, "payload_too_large")
    # One chunk declared at 1 MiB is refused on its size line.
    response = raw_http.request("POST", path, headers, b"100000\r\n{}")
    assert_error_raw(response, 413, "payload_too_large")


def test_small_chunked_bodies_are_read_normally(raw_http, api):
    """The control of the chunked cases: a chunked signup and login go through."""
    user = random_user()
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    response = raw_http.request("POST", "/auth/signup", headers, _chunked(json.dumps(user).encode(), 7))
    assert response.status == 201, response.body
    login = json.dumps({"username": user["username"], "password": user["password"]}).encode()
    response = raw_http.request("POST", "/auth/login", headers, _chunked(login, 5))
    assert response.status == 200, response.body
    assert api.me(response.json()["access_token"]).status_code == 200


def assert_error_raw(response, status: int, code: str) -> None:
    assert response.status == status, (response.status, response.body)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == code, response.body


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([("Content-Length", "4"), ("Transfer-Encoding", "chunked")], b"2\r\n{}\r\n0\r\n\r\n"),
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "2")], b"2\r\n{}\r\n0\r\n\r\n"),
        ([("Content-Length", "abc")], b"{}"),
        ([("Content-Length", "-1")], b"{}"),
        ([("Content-Length", "+2")], b"{}"),
        ([("Content-Length", "2, 2")], b"{}"),
        ([("Content-Length", "2"), ("Content-Length", "3")], b"{} "),
        ([("Transfer-Encoding", "chunked")], b"zz\r\n{}\r\n0\r\n\r\n"),
        ([("Transfer-Encoding", "chunked")], b"fffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
        ([("Transfer-Encoding", "gzip, chunked")], b"2\r\n{}\r\n0\r\n\r\n"),
        ([("Transfer-Encoding", "chunked, chunked")], b"2\r\n{}\r\n0\r\n\r\n"),
        ([("Transfer-Encoding", "identity")], b"{}"),
    ],
    ids=[
        "cl-and-te",
        "te-and-cl",
        "cl-not-a-number",
        "cl-negative",
        "cl-plus-sign",
        "cl-list",
        "cl-twice-different",
        "chunk-size-not-hex",
        "chunk-size-overflow",
        "te-gzip-chunked",
        "te-chunked-twice",
        "te-identity",
    ],
)
def test_ambiguous_or_broken_framing_is_refused_in_json(raw_http, headers, body):
    """Request-smuggling shapes: refused (400, or 501 for an unknown coding), in JSON, never forwarded."""
    response = raw_http.request("POST", "/auth/login", [("Content-Type", "application/json"), *headers], body)
    assert response.status in (400, 501), (response.status, response.body)
    assert response.headers["content-type"].startswith("application/json"), response.body


# ---------------------------------------------------------------------------
# Methods: TRACE, TRACK, CONNECT, unknown ones

METHODS = ["TRACE", "TRACK", "CONNECT", "FOO", "PROPFIND", "DEBUG", "PURGE", "M-SEARCH", "OPTIONS", "PATCH"]
KNOWN_PATHS = ["/api/v1/me", "/api/healthz", "/auth/login", "/auth/signup", "/auth/logout", "/openapi.json"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param(method, path, id=f"{method}-{path}")
        for method in METHODS
        for path in [*KNOWN_PATHS, "/", "/nothing"]
        # tests/test_nginx_and_health.py::test_trace_is_refused_405_json has this one.
        if (method, path) != ("TRACE", "/api/healthz")
    ],
)
def test_odd_methods_are_405_json(raw_http, method, path):
    response = raw_http.request(method, path, [("Content-Length", "0")])
    if path in KNOWN_PATHS:
        assert_error_raw(response, 405, "method_not_allowed")
        # RFC 9110: a 405 names the methods the resource does take, nginx's own 405 included.
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
        assert allowed and method not in allowed, response.headers
    else:
        assert response.status in (404, 405), (response.status, response.body)


@pytest.mark.parametrize(
    "request_line",
    [
        b"CONNECT 127.0.0.1:443 HTTP/1.1",
        b"CONNECT localhost:22 HTTP/1.1",
        b"get /api/healthz HTTP/1.1",
        b"G@T /api/healthz HTTP/1.1",
        b"GET\t/api/healthz HTTP/1.1",
        b"GET /api/healthz HTTP/1.1x",
        b"GET /api/healthz FOO/1.1",
        b"GET api/healthz HTTP/1.1",
        b"GET /api/v1/me%00 HTTP/1.1",
        b"GET /api/v1/me\x01 HTTP/1.1",
        b"GET /api/v1/me\x7f HTTP/1.1",
    ],
    ids=lambda line: repr(line)[2:30],
)
def test_malformed_request_lines_are_400_json(raw_http, request_line):
    responses = raw_http.send(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert responses, "no response"
    assert responses[0].status in (400, 405), (responses[0].status, responses[0].body)


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /api/healthz HTTP/2.0",
        b"GET /api/healthz HTTP/9.9",
        b"GET /api/healthz HTTP/3",
        b"GET /api/v1/m\xc3\xa9 HTTP/1.1",
        b"GET /auth/sessions/\xff HTTP/1.1",
        b"G" * 5000 + b" /api/healthz HTTP/1.1",
        b"GET /api/" + b"a" * 4100 + b" HTTP/1.1",
        b"GET /api/v1/me?" + b"q=" + b"a" * 6000 + b" HTTP/1.1",
    ],
    ids=[
        "http-2.0",
        "http-9.9",
        "http-3",
        "utf8-target",
        "byte-ff-target",
        "long-method",
        "uri-4100",
        "query-6000",
    ],
)
def test_request_lines_refused_further_in_are_json_too(raw_http, request_line):
    """What nginx passes on but something behind it refuses: still an error in JSON, never 2xx."""
    responses = raw_http.send(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert responses, "no response"
    assert 400 <= responses[0].status < 500 or responses[0].status == 505, responses[0].status


def test_http_1_0_without_host_still_works(raw_http):
    """The control of the request-line cases: an old but valid request is answered normally."""
    responses = raw_http.send(b"GET /api/healthz HTTP/1.0\r\n\r\n")
    assert [r.status for r in responses] == [200]
    assert responses[0].json() == {"status": "ok"}


@pytest.mark.parametrize(
    "header_block",
    [
        b"",  # no Host in HTTP/1.1
        b"Host: a\r\nHost: b\r\n",
        b"Host: a\r\nX-A: b\r\n c\r\n",  # obsolete line folding
        b"Host: a\r\nX-A: b\x00c\r\n",
        b"Host: a\r\nX A: b\r\n",
        b"Host: a\r\nX-A: b\x0bc\r\n",
        b"Host: a\r\nX-A: b\x7fc\r\n",
        b"Host: a\r\nX-A: b\x1bc\r\n",
        b"Host: a\r\n: empty-name\r\n",
    ],
    ids=[
        "no-host",
        "two-hosts",
        "obs-fold",
        "nul",
        "space-in-name",
        "vertical-tab",
        "del",
        "escape",
        "empty-name",
    ],
)
def test_malformed_headers_are_400_json(raw_http, header_block):
    responses = raw_http.send(b"GET /api/healthz HTTP/1.1\r\n" + header_block + b"Connection: close\r\n\r\n")
    assert responses, "no response"
    assert responses[0].status == 400, (responses[0].status, responses[0].body)


# ---------------------------------------------------------------------------
# Slow clients


@pytest.mark.slow
def test_slow_headers_are_cut_off(raw_http):
    """Half a request line, then nothing: nginx closes after its 10 s client_header_timeout.

    Not before 5 s (a lower bound holds on any machine: a busy one only waits
    longer), and nginx closes (not this client's own 60 s socket timeout).
    """
    with raw_http.connect(timeout=60) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/hea")
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - started
    assert elapsed > 5, elapsed
    assert not received.startswith((b"HTTP/1.1 2", b"HTTP/1.1 5")), received
    if received:  # a 408 in JSON if nginx answers at all (it usually just closes)
        assert received.startswith(b"HTTP/1.1 408"), received
        record_raw("slow headers", 408, {"server": "nginx"}, received.partition(b"\r\n\r\n")[2])


@pytest.mark.slow
def test_slow_bodies_are_cut_off(raw_http):
    """Headers promising 100 bytes, 2 sent, then nothing: nginx gives up after client_body_timeout.

    As above: at least 5 s, and nginx closes before this client's 60 s socket timeout.
    """
    with raw_http.connect(timeout=60) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{}"
        )
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - started
    assert elapsed > 5, elapsed
    assert not received.startswith((b"HTTP/1.1 2", b"HTTP/1.1 5")), received


# ---------------------------------------------------------------------------
# No banners, from any source of responses


def test_every_source_of_responses_says_only_nginx(api, raw_http, victim):
    """nginx's own pages, Flask's errors, the /me fast path, 204s and health all: ``Server: nginx``.

    (tests/security/conftest.py checks the body and ``Server`` of every
    response of both batteries; this case makes sure each source is among them.)
    """
    login = api.post("/auth/login", {"username": victim["username"], "password": victim["password"]})
    token = login.json()["access_token"]
    responses = [
        api.get("/nothing"),  # nginx 404
        api.request("TRACE", "/auth/login"),  # nginx 405
        api.request("POST", "/auth/login", data=b"{" + b" " * 20_000 + b"}", headers=JSON),  # nginx 413
        api.get("/auth/nothing"),  # Flask 404
        api.request("PATCH", "/api/v1/me"),  # Flask 405
        api.get("/api/v1/me"),  # Flask 401
        api.request("POST", "/auth/login", data=json.dumps({"a": 1}), headers={"Content-Type": "text/plain"}),
        api.post("/auth/login", {"username": 1}),  # Flask 422
        api.me(token),  # fast path 200
        api.get("/api/v1/admin", token=token),  # Flask 403
        api.get("/auth/healthz"),
        api.get("/api/healthz"),
        api.get("/openapi.json"),
        api.request("HEAD", "/api/healthz"),
        api.post("/auth/logout", token=token),  # 204
    ]
    statuses = [r.status_code for r in responses]
    assert statuses == [404, 405, 413, 404, 405, 401, 415, 422, 200, 403, 200, 200, 200, 200, 204], statuses
    for response in responses:
        assert response.headers["Server"] == "nginx"
        headers = str(response.headers).lower()
        assert "gunicorn" not in headers and "werkzeug" not in headers and "python" not in headers
        assert "X-Powered-By" not in response.headers
    garbled = raw_http.send(b"GET / HTTP/1.1x\r\nHost: a\r\n\r\n")  # nginx 400, before any location
    assert garbled[0].headers["server"] == "nginx"
