"""The rules conformance suites check, each through nginx: redirect URIs, PKCE, codes, state, nonce, prompts.

The login page is driven over plain HTTP here (tests/oidc/flow.py); the
Chromium runs are in test_authlib_client.py and test_openid_client.py.
"""

import secrets
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import TIMEOUT, assert_error, bearer
from tests.oidc.flow import Browserless, pkce_pair, query_of

REDIRECT_URI = "https://app.example/callback"


@pytest.fixture
def browser(base_url, public_url, discovery) -> Browserless:
    """A fresh cookie jar driving the login page."""
    return Browserless(base_url, public_url)


@pytest.fixture
def client(register_client) -> dict:
    """A first-party confidential client."""
    return register_client(first_party=True, redirect_uris=[REDIRECT_URI])


def _params(client: dict, challenge: str, **extra) -> dict:
    return {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile offline_access",
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def _exchange(base_url: str, client: dict, code: str, verifier: str, **extra) -> requests.Response:
    return requests.post(
        base_url + "/auth/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier, **extra},
        auth=(client["client_id"], client["client_secret"]),
        timeout=TIMEOUT,
    )  # fmt: skip


def _signed_in_code(browser, client, user, **extra) -> tuple[str, str, dict]:
    verifier, challenge = pkce_pair()
    params = _params(client, challenge, **extra)
    query = query_of(browser.log_in(params, user))
    return query["code"], verifier, params


def test_state_and_nonce_come_back_untouched_with_iss(browser, client, new_user, base_url, public_url, api):
    state, nonce = "a b+c/d=é&x=1", "n-" + secrets.token_urlsafe(20) + "+/="
    _, verifier, params = _signed_in_code(browser, client, new_user, state=state, nonce=nonce)
    answer = browser.authorize(
        {**params, "state": state, "nonce": nonce}
    )  # the provider's cookie: no login page
    query = query_of(answer)
    assert query["state"] == state and query["iss"] == public_url
    token = _exchange(base_url, client, query["code"], verifier).json()
    keys = KeySet.import_key_set(api.get("/.well-known/jwks.json").json())
    assert jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims["nonce"] == nonce


def test_a_code_is_single_use_and_a_second_use_revokes_what_the_first_issued(
    browser, client, new_user, base_url, api
):
    code, verifier, _ = _signed_in_code(browser, client, new_user)
    first = _exchange(base_url, client, code, verifier)
    assert first.status_code == 200, first.text
    access = first.json()["access_token"]
    assert api.me(access).status_code == 200
    second = _exchange(base_url, client, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert_error(api.me(access), 401, "invalid_token")
    refreshed = requests.post(
        base_url + "/auth/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        auth=(client["client_id"], client["client_secret"]), timeout=TIMEOUT,
    )  # fmt: skip
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_logout_all_refuses_an_oidc_access_token_on_the_next_request(
    browser, client, new_user, base_url, api
):
    code, verifier, _ = _signed_in_code(browser, client, new_user)
    token = _exchange(base_url, client, code, verifier).json()
    sessions = api.get("/auth/sessions", token=token["access_token"]).json()["sessions"]
    assert len(sessions) == 2  # the provider's browser session and the client's
    own = api.login(new_user["username"], new_user["password"])
    assert api.post("/auth/logout-all", token=own["access_token"]).status_code == 204
    assert_error(api.me(token["access_token"]), 401, "invalid_token")
    # The provider's cookie ended with its session: the next authorization asks for a login again.
    _, challenge = pkce_pair()
    assert "Log in" in browser.authorize(_params(client, challenge)).text


def test_a_refresh_rotates_and_reuse_ends_the_session(browser, client, new_user, base_url, api):
    code, verifier, _ = _signed_in_code(browser, client, new_user)
    first = _exchange(base_url, client, code, verifier).json()

    def refresh(token: str, auth=(client["client_id"], client["client_secret"])) -> requests.Response:
        return requests.post(base_url + "/auth/oauth2/token", auth=auth, timeout=TIMEOUT,
                             data={"grant_type": "refresh_token", "refresh_token": token})  # fmt: skip

    second = refresh(first["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert api.me(second.json()["access_token"]).status_code == 200
    assert refresh(first["refresh_token"]).json()["error"] == "invalid_grant"  # reuse
    assert refresh(second.json()["refresh_token"]).json()["error"] == "invalid_grant"  # the session ended


def test_a_wrong_redirect_uri_shows_an_error_page_and_never_redirects(browser, client):
    _, challenge = pkce_pair()
    for uri in (
        "https://evil.example/callback",
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        "HTTPS://app.example/callback",
    ):
        answer = browser.authorize(_params(client, challenge, redirect_uri=uri))
        assert answer.status_code == 400 and "Location" not in answer.headers, uri
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_an_unknown_client_or_a_missing_redirect_uri_never_redirects(browser, client):
    _, challenge = pkce_pair()
    for params in (
        _params(client, challenge, client_id="no-such-client"),
        {k: v for k, v in _params(client, challenge).items() if k != "redirect_uri"},
        {k: v for k, v in _params(client, challenge).items() if k != "client_id"},
    ):
        answer = browser.authorize(params)
        assert answer.status_code in (400, 401) and "Location" not in answer.headers, params


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "email profile"}, "invalid_scope"),
        ({"prompt": "none"}, "login_required"),
        ({"max_age": "soon"}, "invalid_request"),
    ],
)
def test_bad_authorization_requests_are_redirected_with_the_rfc_error(
    browser, client, change, error, public_url
):
    _, challenge = pkce_pair()
    params = {k: v for k, v in {**_params(client, challenge), **change}.items() if v is not None}
    query = query_of(browser.authorize(params))
    assert query["error"] == error and query["state"] == params["state"] and query["iss"] == public_url


def test_prompt_none_gives_a_code_to_a_signed_in_person_and_prompt_login_asks_again(
    browser, client, new_user
):
    _signed_in_code(browser, client, new_user)
    _, challenge = pkce_pair()
    assert "code" in query_of(browser.authorize(_params(client, challenge, prompt="none")))
    again = browser.authorize(_params(client, challenge, prompt="login"))
    assert again.status_code == 200 and "Log in" in again.text
    assert "code" in query_of(
        browser.post_form(again, {"step": "login", **{k: new_user[k] for k in ("username", "password")}})
    )


def test_max_age_asks_for_a_login_when_the_sign_in_is_older(browser, client, new_user):
    _signed_in_code(browser, client, new_user)
    _, challenge = pkce_pair()
    assert "code" in query_of(browser.authorize(_params(client, challenge, max_age="3600")))
    time.sleep(1.1)  # the sign-in must be older than max_age=0 (no timing is asserted)
    assert "Log in" in browser.authorize(_params(client, challenge, max_age="0")).text


def test_a_non_first_party_client_asks_for_consent_and_deny_redirects_access_denied(
    browser, register_client, new_user, public_url
):
    client = register_client(first_party=False, redirect_uris=[REDIRECT_URI])
    _, challenge = pkce_pair()
    params = _params(client, challenge)
    consent = browser.log_in(params, new_user)
    assert consent.status_code == 200 and "Allow" in consent.text and "Deny" in consent.text
    assert "https://app.example" in consent.headers["Content-Security-Policy"]
    denied = query_of(browser.post_form(consent, {"step": "consent", "decision": "deny"}))
    assert (
        denied["error"] == "access_denied"
        and denied["iss"] == public_url
        and denied["state"] == params["state"]
    )
    consent = browser.authorize(params)
    assert "code" in query_of(browser.post_form(consent, {"step": "consent", "decision": "allow"}))
    assert "code" in query_of(browser.authorize(params))  # allowed once: not asked again


def test_token_endpoint_errors_are_rfc_json(browser, client, register_client, new_user, base_url):
    code, verifier, _ = _signed_in_code(browser, client, new_user)
    url = base_url + "/auth/oauth2/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    wrong_secret = requests.post(url, data=form, auth=(client["client_id"], "nope"), timeout=TIMEOUT)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    other = register_client(first_party=True, redirect_uris=[REDIRECT_URI])
    stolen = _exchange(base_url, other, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    verifier, challenge = pkce_pair()
    code = query_of(browser.authorize(_params(client, challenge)))["code"]  # signed in already
    bad_verifier = _exchange(base_url, client, code, pkce_pair()[0])
    assert bad_verifier.status_code == 400 and bad_verifier.json()["error"] == "invalid_grant"
    unknown_grant = requests.post(
        url,
        data={"grant_type": "password"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=TIMEOUT,
    )
    assert unknown_grant.status_code == 400 and unknown_grant.json()["error"] == "unsupported_grant_type"
    as_json = requests.post(url, json={"grant_type": "authorization_code"}, timeout=TIMEOUT)
    assert as_json.status_code in (400, 401) and "error" in as_json.json()


def test_a_public_client_uses_pkce_without_a_secret(browser, register_client, new_user, base_url, api):
    client = register_client(type="public", first_party=True, redirect_uris=[REDIRECT_URI])
    verifier, challenge = pkce_pair()
    code = query_of(browser.log_in(_params(client, challenge), new_user))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client["client_id"],
    }
    missing = requests.post(base_url + "/auth/oauth2/token", data=data, timeout=TIMEOUT)
    assert missing.status_code == 400
    code = query_of(browser.authorize(_params(client, challenge)))["code"]
    token = requests.post(
        base_url + "/auth/oauth2/token",
        data={**data, "code": code, "code_verifier": verifier},
        timeout=TIMEOUT,
    )
    assert token.status_code == 200, token.text
    assert api.me(token.json()["access_token"]).status_code == 200
    assert bearer(token.json()["access_token"])
