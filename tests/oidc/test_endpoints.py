"""userinfo, revocation (RFC 7009), introspection (RFC 7662) and RP-initiated logout, through nginx."""

import requests

from tests.helpers import TIMEOUT, assert_error
from tests.oidc.flow import Browserless, pkce_pair, query_of

REDIRECT_URI = "https://app.example/callback"
AFTER_LOGOUT = "https://app.example/bye"


def _params(client: dict, challenge: str, scope: str) -> dict:
    return {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def _tokens(base_url, public_url, client, user, scope="openid email profile offline_access"):
    browser = Browserless(base_url, public_url)
    verifier, challenge = pkce_pair()
    params = _params(client, challenge, scope)
    code = query_of(browser.log_in(params, user))["code"]
    answer = requests.post(
        base_url + "/auth/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    return browser, answer.json()


def _client(register_client):
    return register_client(
        first_party=True, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[AFTER_LOGOUT]
    )


def test_userinfo_answers_by_scope(base_url, public_url, register_client, new_user, api, discovery):
    client = _client(register_client)
    _, token = _tokens(base_url, public_url, client, new_user, scope="openid email")
    info = api.get("/auth/oauth2/userinfo", token=token["access_token"]).json()
    assert info == {"sub": new_user["id"], "email": new_user["email"], "email_verified": False}
    own = api.login(new_user["username"], new_user["password"])  # not a client's session
    assert_error(api.get("/auth/oauth2/userinfo", token=own["access_token"]), 401, "invalid_token")
    assert_error(api.get("/auth/oauth2/userinfo"), 401, "missing_token")


def test_revocation_ends_the_clients_session_and_only_its_own(
    base_url, public_url, register_client, new_user, api
):
    client, other = _client(register_client), _client(register_client)
    _, token = _tokens(base_url, public_url, client, new_user)
    url = base_url + "/auth/oauth2/revoke"
    by_other = requests.post(
        url,
        data={"token": token["refresh_token"]},
        auth=(other["client_id"], other["client_secret"]),
        timeout=TIMEOUT,
    )
    assert by_other.status_code == 200 and api.me(token["access_token"]).status_code == 200
    unknown = requests.post(
        url, data={"token": "nonsense"}, auth=(client["client_id"], client["client_secret"]), timeout=TIMEOUT
    )
    assert unknown.status_code == 200
    bad_secret = requests.post(
        url, data={"token": token["refresh_token"]}, auth=(client["client_id"], "x"), timeout=TIMEOUT
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    done = requests.post(url, data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
                         auth=(client["client_id"], client["client_secret"]), timeout=TIMEOUT)  # fmt: skip
    assert done.status_code == 200
    assert_error(api.me(token["access_token"]), 401, "invalid_token")


def test_introspection_for_confidential_clients(base_url, public_url, register_client, new_user):
    client = _client(register_client)
    _, token = _tokens(base_url, public_url, client, new_user)
    url = base_url + "/auth/oauth2/introspect"
    auth = (client["client_id"], client["client_secret"])
    active = requests.post(url, data={"token": token["access_token"]}, auth=auth, timeout=TIMEOUT).json()
    assert (
        active["active"] is True
        and active["sub"] == new_user["id"]
        and active["client_id"] == client["client_id"]
    )
    assert active["username"] == new_user["username"] and "offline_access" in active["scope"]
    refresh = requests.post(url, data={"token": token["refresh_token"]}, auth=auth, timeout=TIMEOUT).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert requests.post(url, data={"token": "nope"}, auth=auth, timeout=TIMEOUT).json() == {"active": False}
    public = register_client(type="public", first_party=True, redirect_uris=[REDIRECT_URI])
    refused = requests.post(
        url, data={"token": token["access_token"], "client_id": public["client_id"]}, timeout=TIMEOUT
    )
    assert refused.status_code in (400, 401) and refused.json()["error"] in (
        "invalid_client",
        "unauthorized_client",
    )


def test_rp_initiated_logout_ends_the_browser_session_and_redirects_to_a_registered_uri(
    base_url, public_url, register_client, new_user
):
    client = _client(register_client)
    browser, token = _tokens(base_url, public_url, client, new_user)
    logout = base_url + "/auth/oauth2/logout"
    evil = {"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"}
    unregistered = browser.http.get(logout, params=evil, allow_redirects=False, timeout=TIMEOUT)
    assert unregistered.status_code == 200 and "Location" not in unregistered.headers
    browser, token = _tokens(base_url, public_url, client, new_user)
    back = {"id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT, "state": "x y"}
    answer = browser.http.get(logout, params=back, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302 and answer.headers["Location"] == AFTER_LOGOUT + "?state=x+y"
    _, challenge = pkce_pair()
    params = _params(client, challenge, "openid")
    assert "Log in" in browser.authorize(params).text  # the provider's session is over
    no_hint = browser.http.get(logout, allow_redirects=False, timeout=TIMEOUT)
    assert no_hint.status_code == 200 and "Log out" in no_hint.text
