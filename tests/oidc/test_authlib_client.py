"""The code flow with PKCE, driven by Python authlib's client (a relying party nobody here wrote).

Chromium shows our login page at PUBLIC_URL; authlib's OAuth2Session builds
the authorization URL and exchanges the code; the ID token is checked
against the published key set with joserfc.
"""

import secrets
import time
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import TIMEOUT, bearer
from tests.oidc.flow import catch_redirect, expect_accessible, log_in, sign_in_in_browser

REDIRECT_URI = "http://127.0.0.1:9/callback"


def test_authlib_client_signs_in_with_pkce_and_validates_the_id_token(
    chromium, api, new_user, register_client, discovery, public_url
):
    client = register_client(first_party=True, redirect_uris=[REDIRECT_URI])
    session = OAuth2Session(
        client["client_id"],
        client["client_secret"],
        scope="openid email profile offline_access",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    verifier, nonce = generate_token(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_in_browser(chromium, url, new_user, REDIRECT_URI)
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state] and query["iss"] == [public_url]
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier, timeout=TIMEOUT
    )
    assert token["token_type"] == "Bearer" and token["refresh_token"].startswith("rt_")
    key_set = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json())
    claims = jwt.decode(token["id_token"], key_set, algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": public_url},
        aud={"essential": True, "value": client["client_id"]},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True, "value": new_user["id"]},
    ).validate(claims)
    assert claims["email"] == new_user["email"] and claims["preferred_username"] == new_user["username"]
    assert claims["amr"] == ["pwd"] and claims["exp"] > time.time() and claims["auth_time"] <= claims["iat"]
    # The access token is an ordinary one of the client's own session.
    assert api.me(token["access_token"]).status_code == 200
    sessions = api.get("/auth/sessions", token=token["access_token"]).json()["sessions"]
    assert len(sessions) == 2  # the provider's browser session and the client's
    assert bearer(token["access_token"])


def test_consent_in_chromium_allow_reaches_the_client_under_the_pages_csp(
    chromium, new_user, register_client, discovery, public_url
):
    """Chromium applies form-action to the redirect after Allow: the CSP must name the client's origin."""
    client = register_client(first_party=False, redirect_uris=[REDIRECT_URI])
    session = OAuth2Session(
        client["client_id"], client["client_secret"], scope="openid", redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )  # fmt: skip
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=generate_token(48)
    )
    context = chromium.new_context()
    try:
        caught = catch_redirect(context, REDIRECT_URI)
        page = context.new_page()
        page.goto(url)
        log_in(page, new_user["username"], new_user["password"])
        page.get_by_role("button", name="Allow").wait_for()
        expect_accessible(page, "single sign-on: the consent page")
        page.get_by_role("button", name="Allow").click()
        deadline = time.monotonic() + 30
        while not caught and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert caught, page.content()
    finally:
        context.close()
    query = parse_qs(urlsplit(caught[0]).query)
    assert query["state"] == [state] and query["iss"] == [public_url] and query["code"]
