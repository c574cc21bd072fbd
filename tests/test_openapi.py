"""The OpenAPI document (served at /openapi.json) against the running stack, through nginx.

Three promises: the document is valid OpenAPI 3.1; every documented operation
answers as documented (a listed status, the listed headers, a body valid
against the listed schema); and nothing answers that isn't documented (other
methods on a documented path are 405, other paths 404).
"""

import os
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.cookie_mode import explicit_cookies_only, refresh_cookie, same_origin
from tests.helpers import (
    SINGLE_SIGN_ON_PATHS,
    TIMEOUT,
    assert_error,
    bearer,
    posts_at_once,
    random_user,
    single_sign_on_runs,
)
from tests.mailbox import RESET_SUBJECT, VERIFY_SUBJECT, token_in, wait_for_mail
from tests.oidc.flow import Browserless, pkce_pair, query_of
from tests.soft_authenticator import SoftAuthenticator
from tests.stack_env import stack_setting
from tests.totp_codes import oathtool_code, wrong_code

DOCUMENT_URI = "urn:auth-stack:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
PROXY_STATUSES = {"431", "502", "504"}  # nginx may answer any operation with these
PROTECTED_STATUSES = {"401", "503"}
JSON_BODY_STATUSES = {"400", "413", "415", "422"}
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}

# Paths a client might well try; none is part of the contract, so each must be 404.
UNDOCUMENTED_PATHS = (
    "/auth/users",
    "/auth/users/someone",
    "/auth/users/someone/roles",
    "/auth/users/someone/enable",
    "/auth/admin",
    "/auth/me",
    "/auth/token",
    "/auth/openapi.json",
    "/auth/sessions/",
    "/auth/login/",
    "/api",
    "/api/v1",
    "/api/v1/",
    "/api/v1/users",
    "/api/v2/me",
    "/api/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/docs",
    "/redoc",
    "/healthz",
    "/metrics",
    "/.env",
)

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339_date_time(value: object) -> bool:
    """RFC 3339: a full date, ``T``, a time and an offset (jsonschema skips it otherwise)."""
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.fromisoformat(value).tzinfo is not None


def _escape(token: str) -> str:
    """One JSON-pointer segment."""
    return token.replace("~", "~0").replace("/", "~1")


class Spec:
    """The served document, and checks of real responses against it."""

    def __init__(self, document: dict):
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(DOCUMENT_URI, resource)

    def operations(self) -> list[tuple[str, str, dict]]:
        """Every (method, path template, operation) of the document."""
        return [
            (method, path, operation)
            for path, item in self.document["paths"].items()
            for method, operation in item.items()
            if method in HTTP_METHODS
        ]

    def operation_ids(self) -> set[str]:
        """The operationId of every operation."""
        return {operation["operationId"] for _, _, operation in self.operations()}

    def at(self, pointer: str) -> tuple[dict, str]:
        """The object at ``pointer``, following local ``$ref``s; and its final pointer."""
        seen = set()
        while True:
            node = self.document
            for segment in pointer.lstrip("/").split("/"):
                node = node[segment.replace("~1", "/").replace("~0", "~")]
            if not (isinstance(node, dict) and "$ref" in node):
                return node, pointer
            assert node["$ref"].startswith("#/"), f"non-local $ref at {pointer}"
            assert pointer not in seen, f"$ref loop at {pointer}"
            seen.add(pointer)
            pointer = node["$ref"][1:]

    def validate(self, instance, pointer: str) -> None:
        """Validate ``instance`` against the schema at ``pointer`` (2020-12, formats checked)."""
        schema = {"$ref": f"{DOCUMENT_URI}#{pointer}"}
        validator = Draft202012Validator(schema, registry=self._registry, format_checker=FORMATS)
        validator.validate(instance)

    def check(self, method: str, template: str, response: requests.Response, status: int | None = None):
        """Assert ``response`` is a documented answer of the operation; return its JSON body or None."""
        where = f"{method.upper()} {template} -> {response.status_code} {response.text[:300]!r}"
        if status is not None:
            assert response.status_code == status, where
        operation = self.document["paths"][template].get(method)
        assert operation is not None, f"undocumented operation: {where}"
        code = str(response.status_code)
        assert code in operation["responses"], f"undocumented status: {where}"
        described, pointer = self.at(f"/paths/{_escape(template)}/{method}/responses/{code}")
        self.check_headers(described, pointer, response, where)
        return self.check_body(described, pointer, response, where)

    def check_headers(self, described: dict, pointer: str, response: requests.Response, where: str) -> None:
        """The response's required headers are present and match their schemas."""
        for name in described.get("headers", {}):
            header, header_pointer = self.at(f"{pointer}/headers/{_escape(name)}")
            value = response.headers.get(name)
            if value is None:
                assert not header.get("required"), f"missing header {name}: {where}"
                continue
            schema, _ = self.at(f"{header_pointer}/schema")
            if schema.get("type") == "integer":
                assert value.isdigit(), f"header {name}: {value!r} is not an integer: {where}"
                value = int(value)
            self._valid(value, f"{header_pointer}/schema", f"header {name} of {where}")

    def check_body(self, described: dict, pointer: str, response: requests.Response, where: str):
        """The body matches the documented content (or is empty if none is documented)."""
        content = described.get("content")
        if not content:
            assert response.content == b"", f"a body where none is documented: {where}"
            return None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        assert media_type in content, f"undocumented Content-Type {media_type!r}: {where}"
        if response.request.method == "HEAD":
            return None
        if media_type == "text/html":  # single sign-on's pages: checked by tests/oidc
            return response.text
        body = response.json()
        self._valid(body, f"{pointer}/content/{_escape(media_type)}/schema", where)
        return body

    def _valid(self, instance, pointer: str, where: str) -> None:
        try:
            self.validate(instance, pointer)
        except ValidationError as error:
            pytest.fail(f"not as documented at {pointer}: {error.message} (in {where})")


def concrete(template: str, **values: str) -> str:
    """A real URL path for a path template; unnamed parameters get harmless sample values."""
    samples = {
        "id": str(uuid.uuid4()),
        "username": "nobody-" + secrets.token_hex(4),
        "role": "tester",
        "year": "2026",
        "client_id": "no-such-client",
    }
    samples.update(values)
    for name, value in samples.items():
        template = template.replace("{" + name + "}", value)
    assert "{" not in template, f"no sample value for a parameter of {template}"
    return template


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(base_url) -> Spec:
    """The document as nginx serves it at /openapi.json."""
    response = requests.get(base_url + "/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    return Spec(response.json())


@pytest.fixture
def admin(api) -> dict:
    """A logged-in admin: the test driver creates one and exports its credentials."""
    username, password = os.environ.get("ADMIN_USERNAME"), os.environ.get("ADMIN_PASSWORD")
    if not username or not password:
        pytest.fail(
            "ADMIN_USERNAME and ADMIN_PASSWORD are not set: the admin operations can't be exercised. "
            "Create an admin (`make admin USER=... EMAIL=...`) and export them, or run `make test`."
        )
    return api.login(username, password)


def _call(api, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    """A request; nginx's per-client rate limit (429, tested on its own) is waited out."""
    headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
    for _ in range(5):
        response = api.request(method.upper(), path, headers=headers, **kwargs)
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return response


# --- the document itself -------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(spec):
    validate_openapi(spec.document)  # picks the 3.1 schema from the `openapi` field
    assert spec.document["openapi"].startswith("3.1."), spec.document["openapi"]
    ids = [operation["operationId"] for _, _, operation in spec.operations()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_the_document_lists_the_common_answers_of_each_operation(spec):
    problems = []
    for method, path, operation in spec.operations():
        name = f"{method.upper()} {path}"
        listed = set(operation["responses"])
        expected = set(PROXY_STATUSES)
        if operation.get("security"):
            expected |= PROTECTED_STATUSES
        if "requestBody" in operation and not operation.get("x-protocol"):
            expected |= JSON_BODY_STATUSES
        if missing := expected - listed:
            problems.append(f"{name} does not list {sorted(missing)}")
        if operation.get("x-protocol"):
            continue  # single sign-on's RFC endpoints: HTML, redirects, RFC 6749 errors (tests/oidc)
        for code in listed:
            described, _ = spec.at(f"/paths/{_escape(path)}/{method}/responses/{code}")
            content = described.get("content", {})
            if code == "204" and content:
                problems.append(f"{name} {code} documents a body")
            elif code != "204" and list(content) != ["application/json"]:
                problems.append(f"{name} {code} is not documented as JSON only")
            elif code[0] in "45" and ERROR_SCHEMA not in content["application/json"]["schema"].get(
                "allOf", []
            ):
                problems.append(f"{name} {code} is not an Error")
    assert not problems, "\n".join(problems)


EXERCISED: set[str] = set()


def exercises(*operation_ids: str) -> Callable:
    """Mark a test as the success case of these operations (checked against the document)."""

    def mark(test):
        EXERCISED.update(operation_ids)
        return test

    return mark


def test_every_documented_operation_is_exercised_here(spec):
    assert spec.operation_ids() == EXERCISED, {
        "documented, not exercised": sorted(spec.operation_ids() - EXERCISED),
        "exercised, not documented": sorted(EXERCISED - spec.operation_ids()),
    }


# --- every documented operation answers as documented ---------------------------------------------


@exercises("openapi")
def test_openapi_document(api, spec):
    assert spec.check("get", "/openapi.json", api.get("/openapi.json"), 200) == spec.document


@exercises("jwks")
def test_jwks(api, spec):
    spec.check("get", "/.well-known/jwks.json", api.get("/.well-known/jwks.json"), 200)


@exercises("authHealth", "apiHealth")
@pytest.mark.parametrize("path", ["/auth/healthz", "/api/healthz"])
def test_health(api, spec, path):
    spec.check("get", path, api.get(path), 200)


@exercises("signup")
def test_signup(api, spec):
    fields = random_user()
    spec.validate(fields, "/components/schemas/SignupRequest")
    user = spec.check("post", "/auth/signup", api.post("/auth/signup", fields), 201)
    assert user["username"] == fields["username"]
    taken = {**random_user(), "username": fields["username"].upper()}
    body = spec.check("post", "/auth/signup", api.post("/auth/signup", taken), 409)
    assert body["error"] == "username_taken"
    taken = {**random_user(), "email": fields["email"]}
    body = spec.check("post", "/auth/signup", api.post("/auth/signup", taken), 409)
    assert body["error"] == "email_taken"
    body = spec.check(
        "post", "/auth/signup", api.post("/auth/signup", {**random_user(), "password": "short"})
    )
    assert body["error"] == "validation_failed" and "password" in body["fields"]


@exercises("login")
def test_login(api, spec, new_user):
    fields = {"username": new_user["username"], "password": new_user["password"]}
    spec.validate(fields, "/components/schemas/LoginRequest")
    spec.check("post", "/auth/login", api.post("/auth/login", fields), 200)
    wrong = api.post("/auth/login", {**fields, "password": "wrong-password"})
    assert spec.check("post", "/auth/login", wrong, 401)["error"] == "invalid_credentials"


def test_login_throttling_answers_429_as_documented(api, spec, new_user):
    wrong = {"username": new_user["username"], "password": "wrong-password"}
    for _ in range(30):
        response = api.post("/auth/login", wrong)
        spec.check("post", "/auth/login", response)
        if response.status_code == 429:
            return
    pytest.fail("30 failed logins of one account were never throttled (429)")


@exercises("refresh")
def test_refresh(api, spec, logged_in):
    first = {"refresh_token": logged_in["refresh_token"]}
    spec.validate(first, "/components/schemas/RefreshRequest")
    rotated = spec.check("post", "/auth/refresh", api.post("/auth/refresh", first), 200)
    reused = spec.check("post", "/auth/refresh", api.post("/auth/refresh", first), 401)
    assert reused["error"] == "invalid_token"
    # Reuse ended the session: the rotated token is dead too.
    dead = api.post("/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    assert spec.check("post", "/auth/refresh", dead, 401)["error"] == "invalid_token"
    unknown = api.post("/auth/refresh", {"refresh_token": "rt_" + secrets.token_urlsafe(32)})
    assert spec.check("post", "/auth/refresh", unknown, 401)["error"] == "invalid_token"
    for bad in ({}, {"refresh_token": 5}, {"refresh_token": ["x"]}):
        body = spec.check("post", "/auth/refresh", api.post("/auth/refresh", bad), 422)
        assert "refresh_token" in body["fields"], body


@exercises("logout")
def test_logout(api, spec, logged_in):
    token = logged_in["access_token"]
    spec.check("post", "/auth/logout", api.post("/auth/logout", token=token), 204)
    assert spec.check("get", "/api/v1/me", api.me(token), 401)["error"] == "invalid_token"


@exercises("logoutAll")
def test_logout_all(api, spec, logged_in):
    token = logged_in["access_token"]
    spec.check("post", "/auth/logout-all", api.post("/auth/logout-all", token=token), 204)
    assert spec.check("get", "/api/v1/me", api.me(token), 401)["error"] == "invalid_token"


def test_cookie_mode_answers_as_documented(api, spec, base_url, new_user):
    explicit_cookies_only(api)
    credentials = {"username": new_user["username"], "password": new_user["password"]}
    page = same_origin(base_url)
    login = api.post("/auth/login", credentials, headers=page)
    body = spec.check("post", "/auth/login", login, 200)
    spec.validate(body, "/components/schemas/CookieModeTokens")
    cookie = refresh_cookie(login)["value"]
    refreshed = api.post("/auth/refresh", headers=same_origin(base_url, cookie))
    token = spec.check("post", "/auth/refresh", refreshed, 200)["access_token"]
    cookie = refresh_cookie(refreshed)["value"]
    elsewhere = {**page, "Origin": "https://evil.example"}
    for path, kwargs in (
        ("/auth/login", {"json": credentials}),
        ("/auth/refresh", {}),
        ("/auth/logout", {"token": token}),
        ("/auth/logout-all", {"token": token}),
    ):
        refused = api.post(path, headers=elsewhere, **kwargs)
        assert spec.check("post", path, refused, 403)["error"] == "csrf_failed"
    missing = api.post("/auth/refresh", headers=page)
    assert spec.check("post", "/auth/refresh", missing, 401)["error"] == "invalid_token"
    logout = api.post("/auth/logout", token=token, headers=same_origin(base_url, cookie))
    spec.check("post", "/auth/logout", logout, 204)
    dead = api.post("/auth/refresh", headers=same_origin(base_url, cookie))
    assert spec.check("post", "/auth/refresh", dead, 401)["error"] == "invalid_token"


@exercises("listSessions")
def test_list_sessions(api, spec, logged_in):
    api.login(logged_in["username"], logged_in["password"])
    body = spec.check(
        "get", "/auth/sessions", api.get("/auth/sessions", token=logged_in["access_token"]), 200
    )
    assert len(body["sessions"]) == 2, body
    current = [session for session in body["sessions"] if session["current"]]
    me = api.me(logged_in["access_token"]).json()
    assert [session["id"] for session in current] == [me["session_id"]], body


@exercises("endSession")
def test_end_session(api, spec, logged_in):
    token = logged_in["access_token"]
    other = api.login(logged_in["username"], logged_in["password"])
    other_id = api.me(other["access_token"]).json()["session_id"]
    path = "/auth/sessions/{id}"
    spec.check("delete", path, _call(api, "delete", concrete(path, id=other_id), token), 204)
    stranger = api.create_user()
    stranger_id = api.me(api.login(stranger["username"], stranger["password"])["access_token"]).json()
    for unknown in (other_id, str(uuid.uuid4()), "not-a-uuid", "1", stranger_id["session_id"]):
        response = _call(api, "delete", concrete(path, id=unknown), token)
        assert spec.check("delete", path, response, 404)["error"] == "not_found"


@exercises("changePassword")
def test_change_password(api, spec, logged_in):
    token, path = logged_in["access_token"], "/auth/password"
    new = "new-" + secrets.token_hex(8)
    wrong = {"current_password": "not-the-password", "new_password": new}
    body = spec.check("post", path, api.post(path, wrong, token=token), 422)
    assert "current_password" in body["fields"], body
    weak = {"current_password": logged_in["password"], "new_password": "short"}
    body = spec.check("post", path, api.post(path, weak, token=token), 422)
    assert "new_password" in body["fields"], body
    good = {"current_password": logged_in["password"], "new_password": new}
    spec.validate(good, "/components/schemas/PasswordChangeRequest")
    spec.check("post", path, api.post(path, good, token=token), 204)
    api.login(logged_in["username"], new)


@exercises("forgotPassword", "resetPassword")
def test_password_reset(api, spec, new_user):
    forgot, reset = "/auth/password/forgot", "/auth/password/reset"
    for email in (new_user["email"], random_user()["email"]):
        spec.validate({"email": email}, "/components/schemas/ForgotPasswordRequest")
        spec.check("post", forgot, api.post(forgot, {"email": email}), 202)
    token = token_in(wait_for_mail(new_user["email"], RESET_SUBJECT))
    weak = {"token": token, "new_password": "short"}
    assert "new_password" in spec.check("post", reset, api.post(reset, weak), 422)["fields"]
    good = {"token": token, "new_password": "reset-" + secrets.token_hex(8)}
    spec.validate(good, "/components/schemas/ResetPasswordRequest")
    spec.check("post", reset, api.post(reset, good), 204)
    assert spec.check("post", reset, api.post(reset, good), 400)["error"] == "invalid_reset_token"


@exercises("verifyEmail", "resendVerification")
def test_email_verification(api, spec, logged_in):
    path, resend = "/auth/email/verify", "/auth/email/verify/resend"
    token = token_in(wait_for_mail(logged_in["email"], VERIFY_SUBJECT))
    spec.validate({"token": token}, "/components/schemas/VerifyEmailRequest")
    spec.check("post", path, api.post(path, {"token": token}), 204)
    again = spec.check("post", path, api.post(path, {"token": token}), 400)
    assert again["error"] == "invalid_verification_token"
    spec.check("post", resend, api.post(resend, token=logged_in["access_token"]), 202)


@exercises("outboxStatus")
def test_outbox_status(api, spec, admin, logged_in):
    path = "/auth/admin/outbox"
    spec.check("get", path, api.get(path, token=admin["access_token"]), 200)
    normal = api.get(path, token=logged_in["access_token"])
    assert spec.check("get", path, normal, 403)["error"] == "forbidden"


ROLE_PATH = "/auth/users/{username}/roles/{role}"


@exercises("grantRole", "revokeRole")
@pytest.mark.parametrize("method", ["put", "delete"])
def test_role_operations(api, spec, admin, logged_in, method):
    target, token = logged_in["username"], admin["access_token"]
    for _ in range(2):  # idempotent
        response = _call(api, method, concrete(ROLE_PATH, username=target, role="tester"), token)
        spec.check(method, ROLE_PATH, response, 204)
    normal = _call(api, method, concrete(ROLE_PATH, username=target), logged_in["access_token"])
    assert spec.check(method, ROLE_PATH, normal, 403)["error"] == "forbidden"
    unknown = _call(api, method, concrete(ROLE_PATH), token)
    assert spec.check(method, ROLE_PATH, unknown, 404)["error"] == "not_found"
    for role in ("Tester", "x" * 33, "a.b", "r%C3%B4le"):
        response = _call(api, method, concrete(ROLE_PATH, username=target, role=role), token)
        assert "role" in spec.check(method, ROLE_PATH, response, 422)["fields"]


def test_a_granted_role_shows_in_me_after_a_refresh(api, spec, admin, logged_in):
    path = concrete(ROLE_PATH, username=logged_in["username"], role="auditor")
    spec.check("put", ROLE_PATH, _call(api, "put", path, admin["access_token"]), 204)
    fresh = api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}).json()
    assert spec.check("get", "/api/v1/me", api.me(fresh["access_token"]), 200)["roles"] == ["auditor"]


@exercises("disableUser")
def test_disable_user(api, spec, admin, logged_in):
    path = "/auth/users/{username}/disable"
    normal = api.post(concrete(path, username=logged_in["username"]), token=logged_in["access_token"])
    assert spec.check("post", path, normal, 403)["error"] == "forbidden"
    unknown = api.post(concrete(path), token=admin["access_token"])
    assert spec.check("post", path, unknown, 404)["error"] == "not_found"
    done = api.post(concrete(path, username=logged_in["username"]), token=admin["access_token"])
    spec.check("post", path, done, 204)
    login = api.post("/auth/login", {"username": logged_in["username"], "password": logged_in["password"]})
    assert spec.check("post", "/auth/login", login, 401)["error"] == "invalid_credentials"


@exercises("openidConfiguration", "createOAuth2Client", "listOAuth2Clients", "deleteOAuth2Client")
def test_single_sign_on_operations(api, spec, admin, logged_in):
    discovery = api.get("/.well-known/openid-configuration")
    clients, client = "/auth/oauth2/clients", "/auth/oauth2/clients/{client_id}"
    if discovery.status_code == 404:  # a stack without OIDC_SIGNING_KEYS_FILE runs no provider
        spec.check("get", "/.well-known/openid-configuration", discovery, 404)
        spec.check("get", clients, api.get(clients, token=admin["access_token"]), 404)
        return
    spec.check("get", "/.well-known/openid-configuration", discovery, 200)
    body = {"name": "openapi", "type": "confidential", "redirect_uris": ["https://app.example/cb"]}
    refused = api.post(clients, body, token=logged_in["access_token"])
    assert spec.check("post", clients, refused, 403)["error"] == "forbidden"
    bad = api.post(clients, {**body, "type": "other"}, token=admin["access_token"])
    assert "type" in spec.check("post", clients, bad, 422)["fields"]
    created = spec.check("post", clients, api.post(clients, body, token=admin["access_token"]), 201)
    assert created["client_secret"]
    listed = spec.check("get", clients, api.get(clients, token=admin["access_token"]), 200)
    assert created["client_id"] in [entry["client_id"] for entry in listed["clients"]]
    path = concrete(client, client_id=created["client_id"])
    spec.check("delete", client, api.request("DELETE", path, headers=bearer(admin["access_token"])), 204)
    again = api.request("DELETE", path, headers=bearer(admin["access_token"]))
    assert spec.check("delete", client, again, 404)["error"] == "not_found"


@exercises(
    "oidcAuthorize", "oidcAuthorizeForm", "oidcToken", "oidcUserInfo", "oidcUserInfoPost",
    "oidcRevoke", "oidcIntrospect", "oidcLogout", "oidcLogoutForm",
)  # fmt: skip
def test_single_sign_on_protocol_operations(api, spec, admin, new_user, base_url):
    authorize, token_path, logout = "/auth/oauth2/authorize", "/auth/oauth2/token", "/auth/oauth2/logout"
    if api.get("/.well-known/openid-configuration").status_code == 404:
        for method, path in (("get", authorize), ("post", token_path), ("get", logout)):
            spec.check(method, path, _call(api, method, path), 404)
        return
    public_url = os.environ["PUBLIC_URL"].rstrip("/")
    redirect_uri = "https://app.example/cb"
    body = {"name": "openapi", "type": "confidential", "first_party": True, "redirect_uris": [redirect_uri]}
    client = api.post("/auth/oauth2/clients", body, token=admin["access_token"]).json()
    auth = (client["client_id"], client["client_secret"])
    browser = Browserless(base_url, public_url)
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid email",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    spec.check("get", authorize, browser.authorize({**params, "redirect_uri": "https://evil.example/"}), 400)
    page = spec.check("get", authorize, browser.authorize(params), 200)
    assert "Log in" in page
    wrong = browser.post_form(
        browser.authorize(params), {"step": "login", "username": new_user["username"], "password": "x" * 9}
    )
    spec.check("post", authorize, wrong, 401)
    foreign = browser.http.post(
        base_url + authorize,
        data={"step": "login"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    spec.check("post", authorize, foreign, 403)
    signed_in = browser.post_form(
        wrong, {"step": "login", "username": new_user["username"], "password": new_user["password"]}
    )
    spec.check("post", authorize, signed_in, 302)
    code = query_of(signed_in)["code"]
    spec.check("get", authorize, browser.authorize(params), 302)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    bad_client = requests.post(
        base_url + token_path, data=form, auth=(client["client_id"], "nope"), timeout=TIMEOUT
    )
    spec.check("post", token_path, bad_client, 401)
    tokens = spec.check(
        "post", token_path, requests.post(base_url + token_path, data=form, auth=auth, timeout=TIMEOUT), 200
    )
    again = requests.post(
        base_url + token_path, data=form, auth=auth, timeout=TIMEOUT
    )  # the code's second use
    spec.check("post", token_path, again, 400)
    code = query_of(browser.authorize(params))["code"]
    tokens = requests.post(
        base_url + token_path, data={**form, "code": code}, auth=auth, timeout=TIMEOUT
    ).json()
    access = tokens["access_token"]
    spec.check("get", "/auth/oauth2/userinfo", api.get("/auth/oauth2/userinfo", token=access), 200)
    spec.check("post", "/auth/oauth2/userinfo", _call(api, "post", "/auth/oauth2/userinfo", access), 200)
    introspected = requests.post(
        base_url + "/auth/oauth2/introspect", data={"token": access}, auth=auth, timeout=TIMEOUT
    )
    assert spec.check("post", "/auth/oauth2/introspect", introspected, 200)["active"] is True
    no_token = requests.post(base_url + "/auth/oauth2/introspect", data={}, auth=auth, timeout=TIMEOUT)
    spec.check("post", "/auth/oauth2/introspect", no_token, 400)
    revoked = requests.post(
        base_url + "/auth/oauth2/revoke", data={"token": access}, auth=auth, timeout=TIMEOUT
    )
    spec.check("post", "/auth/oauth2/revoke", revoked, 200)
    spec.check(
        "post",
        "/auth/oauth2/revoke",
        requests.post(base_url + "/auth/oauth2/revoke", data={"token": "x"}, timeout=TIMEOUT),
        401,
    )
    confirm = browser.http.get(base_url + logout, allow_redirects=False, timeout=TIMEOUT)
    spec.check("get", logout, confirm, 200)
    out = browser.http.post(
        base_url + logout, headers={"Origin": public_url}, allow_redirects=False, timeout=TIMEOUT
    )
    spec.check("post", logout, out, 200)
    spec.check(
        "post", logout, browser.http.post(base_url + logout, allow_redirects=False, timeout=TIMEOUT), 403
    )


@exercises(
    "mfaStatus", "setupTotp", "confirmTotp", "loginMfa", "renewRecoveryCodes", "disableTotp", "resetUserMfa"
)
def test_second_factor_operations(api, spec, admin, logged_in):
    token, user = logged_in["access_token"], logged_in
    assert spec.check("get", "/auth/mfa", api.get("/auth/mfa", token=token), 200)["totp"] is False
    early = api.post("/auth/mfa/totp/confirm", {"code": "123456"}, token=token)
    pending = spec.check("post", "/auth/mfa/totp/confirm", early, 409)
    assert pending["error"] == "totp_not_pending"
    wrong = api.post("/auth/mfa/totp", {"password": "not-the-password"}, token=token)
    assert "password" in spec.check("post", "/auth/mfa/totp", wrong, 422)["fields"]
    spec.validate({"password": user["password"]}, "/components/schemas/TotpSetupRequest")
    answer = api.post("/auth/mfa/totp", {"password": user["password"]}, token=token)
    setup = spec.check("post", "/auth/mfa/totp", answer, 200)
    code = {"code": oathtool_code(setup["otpauth_uri"])}
    spec.validate(code, "/components/schemas/TotpCodeRequest")
    confirm = api.post("/auth/mfa/totp/confirm", code, token=token)
    codes = spec.check("post", "/auth/mfa/totp/confirm", confirm, 200)["recovery_codes"]
    again = api.post("/auth/mfa/totp", {"password": user["password"]}, token=token)
    assert spec.check("post", "/auth/mfa/totp", again, 409)["error"] == "totp_already_enabled"
    credentials = {"username": user["username"], "password": user["password"]}
    challenge = spec.check("post", "/auth/login", api.post("/auth/login", credentials), 200)
    step = {"mfa_token": challenge["mfa_token"], "code": oathtool_code(setup["otpauth_uri"], steps_ahead=1)}
    spec.validate(step, "/components/schemas/MfaLoginRequest")
    wrong = {**step, "code": wrong_code(setup["otpauth_uri"])}
    rejected = spec.check("post", "/auth/login/mfa", api.post("/auth/login/mfa", wrong), 401)
    assert rejected["error"] == "invalid_mfa_code"
    tokens = spec.check("post", "/auth/login/mfa", api.post("/auth/login/mfa", step), 200)
    used = spec.check("post", "/auth/login/mfa", api.post("/auth/login/mfa", step), 401)
    assert used["error"] == "invalid_mfa_token"
    me = spec.check("get", "/api/v1/me", api.me(tokens["access_token"]), 200)
    assert me["amr"] == ["mfa", "otp", "pwd"]
    renewed = api.post("/auth/mfa/recovery-codes", {"code": codes[0]}, token=token)
    codes = spec.check("post", "/auth/mfa/recovery-codes", renewed, 200)["recovery_codes"]
    off = {"password": user["password"], "code": codes[0]}
    spec.validate(off, "/components/schemas/TotpDisableRequest")
    spec.check("delete", "/auth/mfa/totp", _call(api, "delete", "/auth/mfa/totp", token, json=off), 204)
    gone = _call(api, "delete", "/auth/mfa/totp", token, json=off)
    assert spec.check("delete", "/auth/mfa/totp", gone, 409)["error"] == "totp_not_enabled"
    path = "/auth/users/{username}/mfa"
    normal = _call(api, "delete", concrete(path, username=user["username"]), token)
    assert spec.check("delete", path, normal, 403)["error"] == "forbidden"
    unknown = _call(api, "delete", concrete(path), admin["access_token"])
    assert spec.check("delete", path, unknown, 404)["error"] == "not_found"
    done = _call(api, "delete", concrete(path, username=user["username"]), admin["access_token"])
    spec.check("delete", path, done, 204)


@exercises(
    "passkeyRegistrationOptions",
    "registerPasskey",
    "listPasskeys",
    "passkeyLoginOptions",
    "passkeyLogin",
    "passkeySecondStepOptions",
    "removePasskey",
)
def test_passkey_operations(api, spec, logged_in):
    token, user = logged_in["access_token"], logged_in
    public_url = stack_setting("PUBLIC_URL").rstrip("/")
    rp_id = urllib.parse.urlsplit(public_url).hostname or ""
    key = SoftAuthenticator(public_url)
    options = spec.check(
        "post",
        "/auth/passkeys/register/options",
        api.post("/auth/passkeys/register/options", {}, token=token),
        200,
    )
    request = {"credential": key.create(options), "name": "laptop"}
    spec.validate(request, "/components/schemas/PasskeyRegistrationRequest")
    added = spec.check(
        "post", "/auth/passkeys/register", api.post("/auth/passkeys/register", request, token=token), 201
    )
    again = api.post("/auth/passkeys/register", request, token=token)
    assert "credential" in spec.check("post", "/auth/passkeys/register", again, 422)["fields"]
    listed = spec.check("get", "/auth/passkeys", api.get("/auth/passkeys", token=token), 200)
    assert [p["id"] for p in listed["passkeys"]] == [added["id"]]
    login_options = spec.check(
        "post", "/auth/passkeys/login/options", api.post("/auth/passkeys/login/options", {}), 200
    )
    sign_in = {"credential": key.get(login_options, rp_id)}
    spec.validate(sign_in, "/components/schemas/PasskeyLoginRequest")
    spec.check("post", "/auth/passkeys/login", api.post("/auth/passkeys/login", sign_in), 200)
    refused = spec.check("post", "/auth/passkeys/login", api.post("/auth/passkeys/login", sign_in), 401)
    assert refused["error"] == "invalid_credentials"
    step = api.post("/auth/login", {"username": user["username"], "password": user["password"]}).json()
    path = "/auth/login/mfa/passkey/options"
    step_options = spec.check("post", path, api.post(path, {"mfa_token": step["mfa_token"]}), 200)
    second = {"mfa_token": step["mfa_token"], "credential": key.get(step_options, rp_id)}
    spec.validate(second, "/components/schemas/MfaPasskeyLoginRequest")
    spec.check("post", "/auth/login/mfa", api.post("/auth/login/mfa", second), 200)
    assert (
        spec.check("post", path, api.post(path, {"mfa_token": step["mfa_token"]}), 401)["error"]
        == "invalid_mfa_token"
    )
    path = "/auth/passkeys/{id}"
    assert (
        spec.check("delete", path, _call(api, "delete", concrete(path), token), 404)["error"] == "not_found"
    )
    spec.check("delete", path, _call(api, "delete", concrete(path, id=added["id"]), token), 204)


@exercises("createAccessToken", "listAccessTokens", "revokeAccessToken")
def test_access_tokens(api, spec, logged_in):
    access, path, one = logged_in["access_token"], "/auth/tokens", "/auth/tokens/{id}"
    request = {"name": "ci", "expires_in_days": 7, "roles": []}
    spec.validate(request, "/components/schemas/AccessTokenRequest")
    created = spec.check("post", path, api.post(path, request, token=access), 201)
    me = spec.check("get", "/api/v1/me", api.me(created["token"]), 200)
    assert me["session_id"] is None and me["amr"] == []
    listed = spec.check("get", path, api.get(path, token=access), 200)
    assert [token["id"] for token in listed["tokens"]] == [created["id"]]
    refused = api.get(path, token=created["token"])
    assert spec.check("get", path, refused, 401)["error"] == "invalid_token"
    bad = api.post(path, {"name": "ci", "roles": ["admin"]}, token=access)
    assert "roles" in spec.check("post", path, bad, 422)["fields"]
    spec.check("delete", one, _call(api, "delete", concrete(one, id=created["id"]), access), 204)
    gone = _call(api, "delete", concrete(one, id=created["id"]), access)
    assert spec.check("delete", one, gone, 404)["error"] == "not_found"


@exercises("listUserAccessTokens", "revokeUserAccessToken")
def test_admin_access_tokens(api, spec, admin, logged_in):
    created = api.post("/auth/tokens", {"name": "ci"}, token=logged_in["access_token"]).json()
    path, one = "/auth/users/{username}/tokens", "/auth/users/{username}/tokens/{id}"
    mine = concrete(path, username=logged_in["username"])
    listed = spec.check("get", path, api.get(mine, token=admin["access_token"]), 200)
    assert [token["id"] for token in listed["tokens"]] == [created["id"]]
    normal = api.get(mine, token=logged_in["access_token"])
    assert spec.check("get", path, normal, 403)["error"] == "forbidden"
    unknown = api.get(concrete(path), token=admin["access_token"])
    assert spec.check("get", path, unknown, 404)["error"] == "not_found"
    target = concrete(one, username=logged_in["username"], id=created["id"])
    spec.check("delete", one, _call(api, "delete", target, admin["access_token"]), 204)
    assert spec.check("delete", one, _call(api, "delete", target, admin["access_token"]), 404)


@exercises("me")
def test_me(api, spec, logged_in):
    body = spec.check("get", "/api/v1/me", api.me(logged_in["access_token"]), 200)
    assert body["id"] == logged_in["id"]


@exercises("adminExample")
def test_admin_example(api, spec, admin, logged_in):
    spec.check("get", "/api/v1/admin", api.get("/api/v1/admin", token=admin["access_token"]), 200)
    normal = api.get("/api/v1/admin", token=logged_in["access_token"])
    assert spec.check("get", "/api/v1/admin", normal, 403)["error"] == "forbidden"


@exercises("exampleHello")
def test_example_hello(api, spec, logged_in):
    body = spec.check(
        "get", "/api/v1/example/hello", api.get("/api/v1/example/hello", token=logged_in["access_token"]), 200
    )
    assert body["user_id"] == logged_in["id"]


@exercises("exampleReports")
def test_example_reports(api, spec, admin, logged_in):
    path = "/api/v1/example/reports/{year}"
    allowed = api.get("/api/v1/example/reports/2026", token=admin["access_token"])
    assert spec.check("get", path, allowed, 200)["year"] == 2026
    refused = api.get("/api/v1/example/reports/2026", token=logged_in["access_token"])
    assert spec.check("get", path, refused, 403)["error"] == "forbidden"
    for year in ("0", "10000", "abc"):
        missing = api.get(f"/api/v1/example/reports/{year}", token=admin["access_token"])
        assert spec.check("get", path, missing, 404)["error"] == "not_found"


# --- the common answers, for every operation the document lists ----------------------------------


def operations_served(spec, api) -> list[tuple[str, str, dict]]:
    """The operations, less single sign-on's where no provider runs (their paths are 404 by design)."""
    served = single_sign_on_runs(api.base_url)
    return [op for op in spec.operations() if served or not SINGLE_SIGN_ON_PATHS.match(op[1])]


def test_protected_operations_refuse_missing_and_bad_tokens(api, spec, logged_in):
    refresh_token = logged_in["refresh_token"]
    cases = {
        "no Authorization header": ({}, "missing_token"),
        "another scheme": ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_token"),
        "a forged token": (bearer("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"), "invalid_token"),
        "a refresh token": (bearer(refresh_token), "invalid_token"),
    }
    for method, path, operation in operations_served(spec, api):
        if not operation.get("security"):
            continue
        for case, (headers, code) in cases.items():
            payload = {"json": {}} if "requestBody" in operation else {}
            response = _call(api, method, concrete(path), headers=headers, **payload)
            body = spec.check(method, path, response, 401)
            assert body["error"] == code, (method, path, case, body)
            challenge = response.headers["WWW-Authenticate"]
            assert ('error="invalid_token"' in challenge) == (code == "invalid_token"), challenge


def _body_cases() -> dict[str, tuple[dict, int, str]]:
    """Bad bodies, each with the status and code every JSON-body operation must answer."""
    as_json = {"Content-Type": "application/json"}
    return {
        "not JSON": ({"data": b"{nope", "headers": as_json}, 400, "bad_request"),
        "a JSON array": ({"data": b"[]", "headers": as_json}, 400, "bad_request"),
        "a JSON string": ({"data": b'"x"', "headers": as_json}, 400, "bad_request"),
        "form-encoded": ({"data": {"a": "b"}}, 415, "unsupported_media_type"),
        "text/plain JSON": (
            {"data": b"{}", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        "no body at all": ({}, 415, "unsupported_media_type"),
        "an empty object": ({"json": {}}, 422, "validation_failed"),
        "wrong types": ({"json": {"a": 1}}, 422, "validation_failed"),
        "over 16 KiB": ({"data": b"{" + b" " * 20_000 + b"}", "headers": as_json}, 413, "payload_too_large"),
    }


def test_json_body_operations_refuse_bad_bodies(api, spec, logged_in, admin):
    for method, path, operation in operations_served(spec, api):
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue  # no body, or a form (single sign-on's RFC endpoints: tests/oidc/test_bad_input.py)
        token = logged_in["access_token"] if operation.get("security") else None
        if token and "(admin only)" in operation["summary"]:
            token = admin["access_token"]
        for case, (kwargs, status, code) in _body_cases().items():
            if case == "no body at all" and not operation["requestBody"].get("required", False):
                # An optional body left out: judged on the fields it lacks.
                status, code = 422, "validation_failed"
            response = _call(api, method, concrete(path), token, **kwargs)
            body = spec.check(method, path, response, status)
            assert body["error"] == code, (method, path, case, body)


def test_oversized_headers_are_431_as_documented(api, spec):
    for method, path, _ in spec.operations():
        response = _call(api, method, concrete(path), headers={"X-Filler": "a" * 9000})
        assert_error(response, 431, "headers_too_large")
        spec.check(method, path, response, 431)


def test_an_oversized_request_line_is_431_as_documented(api, spec):
    response = api.get("/api/v1/me?" + "a" * 9000)
    spec.check("get", "/api/v1/me", response, 431)


def test_nginx_rate_limit_answers_429_as_documented(base_url, spec):
    rate_limited = {
        "/auth/signup": {},
        "/auth/login": {},
        "/auth/refresh": {"refresh_token": "x"},
        "/auth/password/forgot": {},
    }

    # 40 at once: past the burst of 10 whatever the rate (see posts_at_once).
    for path, body in rate_limited.items():
        responses = posts_at_once(base_url, path, [body] * 40)
        for response in responses:
            spec.check("post", path, response)
        assert any(response.status_code == 429 for response in responses), path
    time.sleep(0.5)  # let the bucket drain, so later tests aren't limited


# --- nothing answers that is not documented ------------------------------------------------------


def test_other_methods_on_documented_paths_are_405(api, spec):
    problems = []
    for path, item in spec.document["paths"].items():
        documented = {method for method in item if method in HTTP_METHODS}
        url = concrete(path)
        for method in HTTP_METHODS:
            if method in documented or (method == "head" and "get" in documented):
                continue
            response = _call(api, method, url)
            if response.status_code not in (404, 405):
                problems.append(f"{method.upper()} {url} answers {response.status_code}, undocumented")
                continue
            if method != "head":
                name = "MethodNotAllowed" if response.status_code == 405 else "NotFound"
                try:
                    spec.validate(
                        response.json(), f"/components/responses/{name}/content/application~1json/schema"
                    )
                except (ValueError, ValidationError) as error:
                    problems.append(
                        f"{method.upper()} {url}: {response.status_code} body not as documented: {error}"
                    )
            if response.status_code == 405:
                allowed = {
                    m.strip().lower() for m in response.headers.get("Allow", "").split(",") if m.strip()
                }
                if allowed - {"head", "options"} != documented - {"head", "options"}:
                    problems.append(
                        f"{method.upper()} {url}: Allow {sorted(allowed)} != documented {sorted(documented)}"
                    )
    assert not problems, "\n".join(problems)


def test_head_answers_like_get_without_a_body(api, spec):
    for method, path, _ in spec.operations():
        if method == "get":
            url = concrete(path)
            head, get = _call(api, "head", url), _call(api, "get", url)
            assert (head.status_code, head.content) == (get.status_code, b""), url


@pytest.mark.parametrize("path", UNDOCUMENTED_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_undocumented_paths_are_404(api, spec, path, method):
    assert path not in spec.document["paths"]
    body = assert_error(api.request(method, path, json={}), 404, "not_found")
    spec.validate(body, "/components/responses/NotFound/content/application~1json/schema")


# --- the audit trail ------------------------------------------------------------------------------


@exercises("listAuditEvents")
def test_audit_trail(api, spec, admin, logged_in):
    path = "/auth/audit"
    page = spec.check("get", path, api.get(path, token=admin["access_token"], params={"limit": 2}), 200)
    assert len(page["events"]) == 2 and page["next_cursor"] is not None
    params = {"user": logged_in["username"], "type": "authn_login_success", "cursor": page["next_cursor"]}
    spec.check("get", path, api.get(path, token=admin["access_token"], params=params), 200)
    normal = api.get(path, token=logged_in["access_token"])
    assert spec.check("get", path, normal, 403)["error"] == "forbidden"
    bad = api.get(path, token=admin["access_token"], params={"since": "soon"})
    assert "since" in spec.check("get", path, bad, 422)["fields"]


@exercises("verifyAuditChain")
def test_audit_chain_verdict(api, spec, admin, logged_in):
    path = "/auth/audit/verify"
    verdict = spec.check("get", path, api.get(path, token=admin["access_token"]), 200)
    assert verdict["intact"] is True and verdict["first_broken"] is None
    normal = api.get(path, token=logged_in["access_token"])
    assert spec.check("get", path, normal, 403)["error"] == "forbidden"
    bad = api.get(path, token=admin["access_token"], params={"limit": "1"})
    assert "limit" in spec.check("get", path, bad, 422)["fields"]


@exercises("listOwnEvents")
def test_own_events(api, spec, logged_in):
    path = "/auth/events"
    body = spec.check("get", path, api.get(path, token=logged_in["access_token"]), 200)
    assert body["events"][0]["action"] == "session_created"
    bad = api.get(path, token=logged_in["access_token"], params={"limit": "0"})
    assert "limit" in spec.check("get", path, bad, 422)["fields"]
