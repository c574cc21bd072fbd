"""Fixtures of the security batteries.

Every response either battery receives, through ``requests`` or a raw
socket, is checked on arrival and logged: it must be the stack's generic
JSON (no HTML, no server version, no framework name, no traceback), carry
``Server: nginx`` exactly, and never be a 5xx. A check that fails makes the
test that received the response fail, naming the response; at the end of
the session the whole log is checked once more, so one list names every
offender.
"""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers import Api

# Paths nginx rate-limits per client (limit_req burst=10): the batteries send
# many requests to them, so a 429 there is waited out, never a result.
_CREDENTIAL_PATHS = ("/auth/login", "/auth/signup", "/auth/refresh")
_BANNED_IN_BODIES = (
    b"<html",
    b"<!doctype",
    b"<center>",
    b"<h1>",
    b"nginx",
    b"werkzeug",
    b"gunicorn",
    b"flask",
    b"traceback",
    b'file "',
    b"internal server error",
)


@dataclass
class Seen:
    """One response a battery received."""

    test: str
    request: str
    status: int
    headers: dict[str, str]
    body: bytes
    problems: list[str] = field(default_factory=list)


_LOG: list[Seen] = []
_CURRENT = {"test": "?"}


def response_problems(status: int, headers: dict[str, str], body: bytes, *, head: bool = False) -> list[str]:
    """What makes a response not the stack's generic JSON (docs/API.md "Errors"); empty if nothing."""
    problems = []
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("server") != "nginx":
        problems.append(f"Server header is {lowered.get('server')!r}, not exactly 'nginx'")
    if "x-powered-by" in lowered:
        problems.append("X-Powered-By header")
    # 501/505 are protocol answers (an unknown transfer coding, HTTP version); any other 5xx here
    # means a service crashed, hung or leaked an exception.
    if status >= 500 and status not in (501, 505):
        problems.append(f"status {status}")
    text = body.lower()
    # Error bodies are short and generic; a success body (e.g. the OpenAPI document, which talks
    # about nginx) is only held to being JSON, never HTML.
    banned_here = _BANNED_IN_BODIES if status >= 400 else (b"<html", b"<!doctype")
    problems += [f"body contains {banned!r}" for banned in banned_here if banned in text]
    if not body:
        if status >= 400 and not head:
            problems.append(f"{status} without a body")
        return problems
    if not lowered.get("content-type", "").startswith("application/json"):
        problems.append(f"Content-Type {lowered.get('content-type')!r}")
    try:
        document = json.loads(body)
    except ValueError:
        problems.append("body is not JSON")
        return problems
    if status >= 400:
        shape_ok = (
            isinstance(document, dict)
            and isinstance(document.get("error"), str)
            and isinstance(document.get("message"), str)
            and set(document) <= {"error", "message", "fields"}
        )
        if not shape_ok:
            problems.append("error body is not {error, message[, fields]}")
    return problems


def _record(request: str, status: int, headers: dict[str, str], body: bytes, *, head: bool = False) -> Seen:
    seen = Seen(_CURRENT["test"], request, status, dict(headers), body)
    seen.problems = response_problems(status, headers, body, head=head)
    _LOG.append(seen)
    assert not seen.problems, f"{request} -> {status}: {seen.problems}; body {body[:300]!r}"
    return seen


@pytest.fixture(autouse=True)
def _name_the_current_test(request):
    _CURRENT["test"] = request.node.nodeid
    yield
    _CURRENT["test"] = "?"


@pytest.fixture(scope="session", autouse=True)
def every_response_was_generic():
    """After both batteries: every response they saw, over all tests, was generic JSON."""
    yield _LOG
    offenders = [f"{s.test}: {s.request} -> {s.status} {s.problems}" for s in _LOG if s.problems]
    assert not offenders, f"{len(offenders)} of {len(_LOG)} responses were not generic:\n" + "\n".join(
        offenders
    )


def _check_hook(response: requests.Response, *args, **kwargs):
    request = response.request
    _record(
        f"{request.method} {urlsplit(request.url).path}",
        response.status_code,
        dict(response.headers),
        response.content,
        head=request.method == "HEAD",
    )


class CheckedApi(Api):
    """``tests.helpers.Api`` whose every response is checked and logged, and which waits out 429s."""

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        for _ in range(50):
            response = super().request(method, path, **kwargs)
            if response.status_code != 429 or urlsplit(path).path not in _CREDENTIAL_PATHS:
                return response
            time.sleep(0.1)
        return response


def _checked_session() -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(_check_hook)
    return session


@pytest.fixture
def api(base_url):
    """The ``api`` of tests/conftest.py, with every response checked (see the module docstring)."""
    with _checked_session() as session:
        yield CheckedApi(base_url, session)


@pytest.fixture(scope="module")
def module_api(base_url):
    """A checked client shared by a module's fixtures (users made once per module)."""
    with _checked_session() as session:
        yield CheckedApi(base_url, session)


@pytest.fixture(scope="module")
def victim(module_api) -> dict:
    """A user logged in once per module, for cases that change nothing (forgeries are read-only)."""
    user = module_api.create_user()
    return {**user, **module_api.login(user["username"], user["password"])}


# ---------------------------------------------------------------------------
# Raw HTTP: for what requests refuses to send (odd whitespace, duplicate
# headers, lying lengths, unknown methods, broken framing).


@dataclass
class RawResponse:
    """One parsed HTTP/1.1 response."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)


def _parse_responses(data: bytes, head: bool) -> list[tuple[int, dict[str, str], bytes]]:
    responses = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        assert head_end >= 0, f"incomplete response: {data[:300]!r}"
        lines = data[:head_end].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        assert version.startswith("HTTP/"), f"not an HTTP response: {data[:300]!r}"
        status = int(rest.split(" ", 1)[0])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        data = data[head_end + 4 :]
        if head or status in (204, 304):
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                body, data = body + data[:size], data[size + 2 :]
                if size == 0:
                    break
        else:
            length = int(headers.get("content-length", "0"))
            body, data = data[:length], data[length:]
        responses.append((status, headers, body))
    return responses


class RawHttp:
    """Sends bytes to nginx over a fresh TCP connection and checks every response that comes back."""

    def __init__(self, base_url: str):
        address = urlsplit(base_url)
        self.host, self.port = address.hostname, address.port or 80

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def send(self, data: bytes, *, timeout: float = 5.0, head: bool = False) -> list[RawResponse]:
        """Send ``data``, read until nginx closes, return every response (pipelined ones too)."""
        with self.connect(timeout) as sock:
            sock.sendall(data)
            received = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        label = data.split(b"\r\n", 1)[0][:80].decode("latin-1")
        parsed = _parse_responses(received, head)
        for status, headers, body in parsed:
            _record(f"raw {label}", status, headers, body, head=head)
        return [RawResponse(status, headers, body) for status, headers, body in parsed]

    def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        version: str = "HTTP/1.1",
        host: bool = True,
        raw_headers: bytes = b"",
        timeout: float = 5.0,
    ) -> RawResponse:
        """One request (``Connection: close``); the one response."""
        lines = [f"{method} {target} {version}".encode("latin-1")]
        if host:
            lines.append(b"Host: localhost")
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers or []]
        lines.append(b"Connection: close")
        data = b"\r\n".join(lines) + b"\r\n" + raw_headers + b"\r\n" + body
        responses = self.send(data, timeout=timeout, head=method == "HEAD")
        assert len(responses) == 1, [r.status for r in responses]
        return responses[0]


@pytest.fixture(scope="session")
def raw_http(base_url) -> RawHttp:
    """Raw HTTP/1.1 to nginx; every response checked like ``api``'s."""
    return RawHttp(base_url)


def record_raw(label: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """Check and log a response a test parsed itself (e.g. from a socket it kept open)."""
    _record(label, status, headers, body)


# ---------------------------------------------------------------------------
# A listener that jku/x5u/kid URLs point at: it must never be contacted.


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections and answers with a JWKS."""

    def __init__(self, jwks: dict):
        self._jwks = json.dumps(jwks).encode()
        self.connections = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self._jwks)}"
                    conn.sendall(head.encode() + b"\r\nConnection: close\r\n\r\n" + self._jwks)
                except OSError:
                    pass

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()


ATTACKER_KEY = b"attacker-controlled-key-0123456789abcdef"


@pytest.fixture
def listener():
    """A fresh listener per test, serving a JWKS with the attacker's HMAC key."""
    import base64

    k = base64.urlsafe_b64encode(ATTACKER_KEY).rstrip(b"=").decode()
    server = Listener({"keys": [{"kty": "oct", "kid": "attacker", "alg": "HS256", "k": k}]})
    yield server
    server.close()
