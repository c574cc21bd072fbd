"""Schemathesis against the served OpenAPI document, through nginx.

Every documented operation gets generated requests, valid ones and invalid
ones (wrong types, missing fields, odd path parameters), and each answer must
be: not a 5xx, a status the document lists for the operation, with its
content type, headers and body schema. A healthy stack has no business
answering 502/503/504, so ``not_a_server_error`` holds them to that even though
the document lists them for outages.

Bounded for `make test` (a fixed seed, a few examples per operation); `make
fuzz` sets ``FUZZ_PROFILE=long`` for more examples and a random seed.
Protected operations get a real bearer token: a user logged in per operation,
a fresh login per call for the ones that end sessions, and the admin for the
admin operations, which never target the admin itself (so the run can't
disable it or take its role). In the negative mode schemathesis also makes up
``Authorization`` headers of its own; those win, and must answer 401.

The cases are drawn with ``operation.as_strategy`` under a plain ``@given``:
schemathesis's pytest loader for a fixture-provided schema
(``schemathesis.pytest.from_fixture``) breaks on pytest 9.2 (it sets
``node._nodeid``), and loading at import time would need the stack to collect.
"""

import os
import secrets
import unicodedata

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import TIMEOUT, bearer, patient_post, random_user

PROFILES = {
    # `make test`: reproducible and quick (~16 operations x 2 modes).
    "default": {"max_examples": 25, "derandomize": True},
    # `make fuzz`: more and different examples each run; a failure prints its seed.
    "long": {"max_examples": 250, "derandomize": False},
}
PROFILE = PROFILES[os.environ.get("FUZZ_PROFILE", "default")]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The document's operations, and whether each takes input (parameters or a body) that
# the negative mode can make invalid; a test checks the served document agrees.
OPERATIONS = {
    "POST /auth/signup": True,
    "POST /auth/login": True,
    "POST /auth/refresh": True,
    "POST /auth/logout": False,
    "POST /auth/logout-all": False,
    "GET /auth/sessions": False,
    "DELETE /auth/sessions/{id}": True,
    "POST /auth/password": True,
    "POST /auth/password/forgot": True,
    "POST /auth/password/reset": True,
    "POST /auth/email/verify": True,
    "POST /auth/email/verify/resend": False,
    "GET /auth/admin/outbox": False,
    "PUT /auth/users/{username}/roles/{role}": True,
    "DELETE /auth/users/{username}/roles/{role}": True,
    "POST /auth/users/{username}/disable": True,
    "GET /auth/healthz": False,
    "GET /api/v1/me": False,
    "GET /api/v1/admin": False,
    "GET /api/healthz": False,
    "GET /openapi.json": False,
}
CASES = [
    pytest.param(label, mode, id=f"{label} {mode}")
    for label, has_input in OPERATIONS.items()
    for mode in GenerationMode
    if has_input or mode is GenerationMode.POSITIVE
]
ADMIN_OPERATIONS = {
    "GET /auth/admin/outbox",
    "PUT /auth/users/{username}/roles/{role}",
    "DELETE /auth/users/{username}/roles/{role}",
    "POST /auth/users/{username}/disable",
    "GET /api/v1/admin",
}
# Each call ends the caller's session (or all of them): a fresh login per call.
SESSION_ENDING_OPERATIONS = {"POST /auth/logout", "POST /auth/logout-all"}


class Bearers:
    """Access tokens for the fuzzed operations."""

    def __init__(self, base_url: str, admin: dict):
        self.base_url = base_url
        self.admin = admin
        self.users: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}

    def _user(self, role: str) -> dict:
        if role not in self.users:
            user = random_user()
            response = patient_post(f"{self.base_url}/auth/signup", user)
            assert response.status_code == 201, response.text
            self.users[role] = user
        return self.users[role]

    def _login(self, credentials: dict) -> str:
        body = {"username": credentials["username"], "password": credentials["password"]}
        response = patient_post(f"{self.base_url}/auth/login", body)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def for_operation(self, label: str) -> str:
        """A token for ``label``: its own session, so one operation can't end another's."""
        if label in SESSION_ENDING_OPERATIONS:
            # A user of its own per operation: logout-all ends every session of the user.
            return self._login(self._user(label))
        if label not in self.tokens:
            # Wrong current passwords throttle the account's logins too: a user of its own.
            role = "password" if label == "POST /auth/password" else "member"
            credentials = self.admin if label in ADMIN_OPERATIONS else self._user(role)
            self.tokens[label] = self._login(credentials)
        return self.tokens[label]


@pytest.fixture(scope="session")
def fuzz_schema(base_url):
    """The document as nginx serves it, aimed at the stack."""
    loaded = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=TIMEOUT)
    loaded.config.update(base_url=base_url, request_timeout=TIMEOUT)
    return loaded


@pytest.fixture(scope="session")
def bearers(base_url, admin_credentials) -> Bearers:
    return Bearers(base_url, admin_credentials)


@pytest.fixture(scope="session")
def http_session():
    with requests.Session() as session:
        yield session


def _targets_admin(case, admin_username: str) -> bool:
    target = (case.path_parameters or {}).get("username")
    if not isinstance(target, str):
        return False
    return unicodedata.normalize("NFKC", target).casefold().strip() == admin_username.casefold()


def test_the_served_document_has_exactly_the_fuzzed_operations(fuzz_schema):
    served = {
        f"{method.upper()} {path}": bool(operation.get("parameters") or operation.get("requestBody"))
        for path, item in fuzz_schema.raw_schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    }
    assert served == OPERATIONS


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_operation_answers_as_documented(label, mode, fuzz_schema, bearers, admin_credentials, http_session):
    operation = fuzz_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    protected = bool(operation.definition.raw.get("security"))

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=PROFILE["max_examples"],
        derandomize=PROFILE["derandomize"],
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case):
        assume(not _targets_admin(case, admin_credentials["username"]))
        headers = {"X-Request-ID": "fuzz-" + secrets.token_hex(6)}
        if protected:
            headers |= bearer(bearers.for_operation(label))
        case.call_and_validate(session=http_session, headers=headers, checks=CHECKS)

    fuzz()
