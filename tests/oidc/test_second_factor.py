"""The provider's login page asks for the second factor of a user who has one."""

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import TIMEOUT
from tests.oidc.flow import Browserless, pkce_pair, query_of
from tests.test_mfa_totp import enable_totp

REDIRECT_URI = "https://app.example/callback"


def test_a_user_with_totp_gives_a_code_on_the_page_and_the_id_token_says_mfa(
    base_url, public_url, register_client, logged_in, api
):
    codes = enable_totp(api, logged_in)["recovery_codes"]
    client = register_client(first_party=True, redirect_uris=[REDIRECT_URI])
    browser = Browserless(base_url, public_url)
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    step = browser.log_in(params, logged_in)
    assert step.status_code == 200 and "Second factor" in step.text, step.text[:300]
    mfa_token = step.text.split('name="mfa_token" value="')[1].split('"')[0]
    wrong = browser.post_form(step, {"step": "mfa", "mfa_token": mfa_token, "code": "000000"})
    assert wrong.status_code == 401 and "not valid" in wrong.text and "Location" not in wrong.headers
    done = browser.post_form(wrong, {"step": "mfa", "mfa_token": mfa_token, "code": codes[0]})
    code = query_of(done)["code"]
    token = requests.post(
        base_url + "/auth/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
        timeout=TIMEOUT,
    ).json()
    keys = KeySet.import_key_set(api.get("/.well-known/jwks.json").json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    assert "mfa" in claims["amr"] and "pwd" in claims["amr"]
