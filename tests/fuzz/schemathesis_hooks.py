"""Authentication for the schemathesis CLI run (tests/fuzz/test_schemathesis.py).

Every generated call gets a token of its own, from a fresh login: the run's
own logout, logout-all, password and disable calls can end only the session
they were given, never the one the next call needs. Admin operations log in
as the admin of the test stack (``ADMIN_USERNAME``/``ADMIN_PASSWORD``); the
others as a member signed up once for the run. A generated,
schema-valid ``current_password`` is replaced by the member's real one, so a password
change is really exercised rather than always refused.
"""

import os
import secrets

import requests
import schemathesis

BASE_URL = os.environ.get("BASE_URL", "").rstrip("/")
ADMIN_PATHS = ("/auth/users/", "/api/v1/admin")
_member: dict[str, str] = {}


def _post(path: str, body: dict) -> requests.Response:
    for _ in range(50):  # nginx's per-address limit: wait like a polite client
        response = requests.post(BASE_URL + path, json=body, timeout=10)
        if response.status_code != 429:
            return response
    return response


def _member_credentials() -> dict[str, str]:
    if not _member:
        name = "fuzz-" + secrets.token_hex(6)
        password = secrets.token_urlsafe(16)
        response = _post(
            "/auth/signup", {"username": name, "email": f"{name}@example.com", "password": password}
        )
        response.raise_for_status()
        _member.update(username=name, password=password)
    return dict(_member)


@schemathesis.auth(refresh_interval=None)
class FreshLogin:
    """A fresh login per generated call (no caching: ``refresh_interval=None``)."""

    def get(self, case, ctx):
        """Log in and return the access token for this call."""
        admin = ctx.operation.path.startswith(ADMIN_PATHS)
        if admin:
            credentials = {"username": os.environ["ADMIN_USERNAME"], "password": os.environ["ADMIN_PASSWORD"]}
        else:
            credentials = _member_credentials()
            generated = case.body.get("current_password") if isinstance(case.body, dict) else None
            # Only a schema-valid guess is replaced: a negative case keeps its broken value.
            if isinstance(generated, str) and generated and "\x00" not in generated:
                case.body["current_password"] = credentials["password"]
        response = _post("/auth/login", credentials)
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, ctx):
        """Send the token as the bearer token (the checks ignored_auth and
        missing_required_header send their own calls without it)."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def after_call(context, case, response):
    """Follow the member's password when a generated password change succeeded."""
    if case.operation.path == "/auth/password" and response.status_code == 204 and _member:
        _member["password"] = case.body["new_password"]
