"""Small helpers for talking to the stack the way any HTTP client would."""

import http.client
import json
import os
import re
import secrets
import socket
import time
import types
import urllib.parse

import requests

TIMEOUT = 10


def random_user() -> dict:
    """Signup fields for a user nobody else in the run has."""
    name = "u-" + secrets.token_hex(6)
    return {"username": name, "email": f"{name}@example.com", "password": "pw-" + secrets.token_hex(8)}


def bearer(token: str) -> dict:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    """Check the status and the docs/API.md error shape; return the body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


class Api:
    """A requests session bound to the stack's base URL."""

    def __init__(self, base_url: str, session: requests.Session):
        self.base_url = base_url
        self.session = session

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Any request to the stack, retried like a polite client when nginx rate-limits it.

        The whole suite comes from one address, so a fast run of sequential
        requests can exceed the credential endpoints' per-address burst; a
        test that is about 429s sends its requests without this helper.
        """
        kwargs.setdefault("timeout", TIMEOUT)
        for _ in range(20):
            response = self.session.request(method, self.base_url + path, **kwargs)
            if not _rate_limited(response):
                return response
            time.sleep(float(response.headers["Retry-After"]))
        return response

    def post(self, path: str, json=None, token: str | None = None, **kwargs) -> requests.Response:
        """POST a JSON body, with a bearer token if given."""
        headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
        return self.request("POST", path, json=json, headers=headers, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        """GET, with a bearer token if given."""
        headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
        return self.request("GET", path, headers=headers, **kwargs)

    def create_user(self, **overrides) -> dict:
        """Sign up a random user; return its fields and id."""
        fields = {**random_user(), **overrides}
        response = self.post("/auth/signup", fields)
        assert response.status_code == 201, response.text
        return {**fields, "id": response.json()["id"], "username": response.json()["username"]}

    def login(self, username: str, password: str) -> dict:
        """Log in; return the token response."""
        response = self.post("/auth/login", {"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def me(self, token: str) -> requests.Response:
        """GET /api/v1/me with ``token``."""
        return self.get("/api/v1/me", token=token)


GATEWAY_PATH = "/app/whoami"


def gateway_role() -> str:
    """The APP_ROLE the stack's gateway prefix requires ('' for none); the test drivers set it."""
    return os.environ.get("APP_ROLE", "")


def gateway_login(api: Api, admin_token: str) -> dict:
    """A fresh user the gateway lets through (granted APP_ROLE if one is set), logged in."""
    user = api.create_user()
    if gateway_role():
        response = api.request(
            "PUT", f"/auth/users/{user['username']}/roles/{gateway_role()}", headers=bearer(admin_token)
        )
        assert response.status_code == 204, response.text
    return {**user, **api.login(user["username"], user["password"])}


NGINX_RATE_LIMIT_MESSAGE = "Too many requests; retry later."


def patient_post(
    url: str, body: dict, attempts: int = 50, timeout: float = 20, **kwargs
) -> requests.Response:
    """POST like a well-behaved client: wait out nginx's per-address rate limit and retry.

    Parallel tests all come from 127.0.0.1, so they share nginx's burst
    allowance on the credential endpoints; an account's own throttle (also
    429, another message) is returned, not retried.
    """
    for _ in range(attempts):
        response = requests.post(url, json=body, timeout=timeout, **kwargs)
        if not _rate_limited(response):
            return response
        time.sleep(float(response.headers["Retry-After"]))
    raise AssertionError(f"nginx kept rate-limiting {url}")


def _rate_limited(response: requests.Response) -> bool:
    """A 429 that asks to come back in a moment (nginx's limit, or a busy worker), not an account throttle."""
    if response.status_code != 429:
        return False
    # A HEAD answer has no body to tell them apart; only POSTs are ever throttled per account.
    return not response.content or response.json()["message"] == NGINX_RATE_LIMIT_MESSAGE


class RawAnswer:
    """An answer read off a raw socket, with the parts of ``requests.Response`` the tests use."""

    def __init__(self, method: str, status: int, headers: list[tuple[str, str]], content: bytes):
        self.request = types.SimpleNamespace(method=method)
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = content
        self.text = content.decode("utf-8", "replace")

    def json(self):
        """The body as JSON."""
        return json.loads(self.content)


def posts_at_once(
    base_url: str, path: str, bodies: list[dict], headers: list[dict] | None = None, rounds: int = 5
) -> list[RawAnswer]:
    """POST each body on its own connection, all arriving at nginx together; every answer.

    Each request is written but for its last byte, then the last bytes go
    out back to back (one ``send`` each, microseconds apart): nginx sees the
    requests at once however slowly this client built them, so a per-address
    rate far above what a busy machine's client threads could reach is still
    passed. Repeated (up to ``rounds``) until one answer is a 429, which a
    burst of more requests than the limit's burst allows must bring.
    """
    url = urllib.parse.urlsplit(base_url)
    answers: list[RawAnswer] = []
    for _ in range(rounds):
        sockets, last_bytes = [], []
        try:
            for index, body in enumerate(bodies):
                data = json.dumps(body).encode()
                lines = [
                    f"POST {path} HTTP/1.1",
                    f"Host: {url.netloc}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                    "Connection: close",
                    *(f"{name}: {value}" for name, value in (headers[index] if headers else {}).items()),
                ]
                request = ("\r\n".join(lines) + "\r\n\r\n").encode() + data
                sock = socket.create_connection((url.hostname, url.port or 80), timeout=60)
                sockets.append(sock)
                sock.sendall(request[:-1])
                last_bytes.append(request[-1:])
            for sock, last in zip(sockets, last_bytes, strict=True):
                sock.send(last)
            for sock in sockets:
                response = http.client.HTTPResponse(sock, method="POST")
                response.begin()
                answers.append(RawAnswer("POST", response.status, response.getheaders(), response.read()))
        finally:
            for sock in sockets:
                sock.close()
        if any(answer.status_code == 429 for answer in answers):
            break
    return answers


def access_token_jwks(document: dict) -> list[dict]:
    """The access-token keys of a published JWK Set: without single sign-on's ID-token keys ("id-" kids)."""
    return [jwk for jwk in document["keys"] if not jwk["kid"].startswith("id-")]


# Single sign-on's paths: they answer 404 where the stack runs no provider
# (no OIDC_SIGNING_KEYS_FILE, e.g. the Swarm stack), as docs/OIDC.md says.
SINGLE_SIGN_ON_PATHS = re.compile(r"^/auth/oauth2/|^/\.well-known/openid-configuration$")


def single_sign_on_runs(base_url: str) -> bool:
    """True if the stack runs the OpenID Connect provider (its discovery document answers)."""
    return requests.get(base_url + "/.well-known/openid-configuration", timeout=10).status_code != 404
