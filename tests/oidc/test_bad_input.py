"""Malformed authorize and token requests: the RFC's error, no 500, no redirect to an unregistered URI."""

from urllib.parse import urlencode

import pytest
import requests

from tests.helpers import TIMEOUT
from tests.oidc.flow import AUTHORIZE, pkce_pair

REDIRECT_URI = "https://app.example/callback"
OTHER_URI = "https://other.example/callback"


@pytest.fixture
def clients(register_client) -> tuple[dict, dict]:
    """Two first-party clients with different redirect URIs."""
    return (
        register_client(first_party=True, redirect_uris=[REDIRECT_URI]),
        register_client(first_party=True, redirect_uris=[OTHER_URI]),
    )


def _pairs(client: dict) -> list[tuple[str, str]]:
    _, challenge = pkce_pair()
    return [
        ("response_type", "code"), ("client_id", client["client_id"]), ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"), ("state", "s"), ("code_challenge", challenge), ("code_challenge_method", "S256"),
    ]  # fmt: skip


AUTHORIZE_CASES = {
    "duplicated client_id": lambda p, c: [*p, ("client_id", c["client_id"])],
    "duplicated redirect_uri": lambda p, c: [*p, ("redirect_uri", REDIRECT_URI)],
    "duplicated response_type": lambda p, c: [*p, ("response_type", "code")],
    "duplicated state": lambda p, c: [*p, ("state", "t")],
    "duplicated code_challenge": lambda p, c: [*p, ("code_challenge", pkce_pair()[1])],
    "another client's redirect_uri": lambda p, c: [
        (k, OTHER_URI if k == "redirect_uri" else v) for k, v in p
    ],
    "no response_type": lambda p, c: [(k, v) for k, v in p if k != "response_type"],
    "no scope": lambda p, c: [(k, v) for k, v in p if k != "scope"],
    "oversized state": lambda p, c: [(k, "x" * 3000 if k == "state" else v) for k, v in p],
    "oversized client_id": lambda p, c: [(k, "c" * 3000 if k == "client_id" else v) for k, v in p],
    "NUL in client_id": lambda p, c: [(k, "a\x00b" if k == "client_id" else v) for k, v in p],
    "javascript redirect": lambda p, c: [
        (k, "javascript:alert(1)" if k == "redirect_uri" else v) for k, v in p
    ],
    "unicode scope": lambda p, c: [(k, "openid ☃" if k == "scope" else v) for k, v in p],
    "empty": lambda p, c: [],
    # authlib builds its error description from response_type: a non-ASCII one was a 500.
    "non-ASCII response_type": lambda p, c: [
        (k, "co\u00f1de\x01" if k == "response_type" else v) for k, v in p
    ],
    "non-ASCII state": lambda p, c: [(k, "\u00e9t\u00e9" if k == "state" else v) for k, v in p],
}


@pytest.mark.parametrize("case", AUTHORIZE_CASES)
def test_a_malformed_authorization_request_never_500s_nor_redirects_elsewhere(base_url, clients, case):
    client, _ = clients
    query = urlencode(AUTHORIZE_CASES[case](_pairs(client), client))
    answer = requests.get(f"{base_url}{AUTHORIZE}?{query}", allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code < 500, (case, answer.status_code, answer.text[:300])
    location = answer.headers.get("Location")
    assert location is None or location.startswith(REDIRECT_URI + "?"), (case, location)
    if location:
        assert "error=" in location, (case, location)  # nobody signed in: never a code


TOKEN_CASES = {
    "JSON body": {"json": {"grant_type": "authorization_code", "code": "x"}},
    "no body": {},
    "text body": {"data": "grant_type=authorization_code", "headers": {"Content-Type": "text/plain"}},
    "no grant_type": {"data": {"code": "x"}},
    "unknown grant_type": {"data": {"grant_type": "password", "username": "a", "password": "b"}},
    "implicit": {"data": {"grant_type": "implicit"}},
    "client_credentials": {"data": {"grant_type": "client_credentials"}},
    "unknown code": {
        "data": {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT_URI}
    },
    "oversized code": {
        "data": {"grant_type": "authorization_code", "code": "c" * 5000, "redirect_uri": REDIRECT_URI}
    },
    "duplicated code": {"data": [("grant_type", "authorization_code"), ("code", "a"), ("code", "b")]},
    "duplicated grant_type": {
        "data": [("grant_type", "authorization_code"), ("grant_type", "refresh_token")]
    },
    "bad refresh token": {"data": {"grant_type": "refresh_token", "refresh_token": "rt_nope"}},
    "NUL in code": {"data": {"grant_type": "authorization_code", "code": "a\x00b"}},
    "non-ASCII grant_type": {"data": {"grant_type": "pass\u00e9word"}},
}


@pytest.mark.parametrize("case", TOKEN_CASES)
@pytest.mark.parametrize("authenticated", [True, False])
def test_a_malformed_token_request_gets_an_rfc_json_error(base_url, clients, case, authenticated):
    client, _ = clients
    auth = (client["client_id"], client["client_secret"]) if authenticated else None
    answer = requests.post(base_url + "/auth/oauth2/token", auth=auth, timeout=TIMEOUT, **TOKEN_CASES[case])
    assert answer.status_code in (400, 401), (case, answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["error"] in (
        "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "unauthorized_client",
    ), (case, body)  # fmt: skip
