"""Rotating the EdDSA stack's signing key without logging anyone out (docs/OPERATIONS.md).

The steps an operator takes, on the running EdDSA stack: publish the next
key (``python -m authcore.keys add``), sign with it (``promote``), drop the
old one (``remove``); after each, the runner derives the public set again
and both services restart. Tokens signed before and after every step keep
working until their key is removed; then they are refused and a refresh
gets a token signed with the new key.
"""

import time

import jwt
import requests

from authcore import keys as key_sets
from tests.helpers import access_token_jwks, assert_error

JWKS_PATH = "/.well-known/jwks.json"


def _rotate(eddsa_stack, *command: str) -> None:
    """``python -m authcore.keys COMMAND... <private set>``, re-derive the public set, restart."""
    from runner import signing_keys, supervisor

    stack = eddsa_stack.stack
    assert key_sets.main([*command, str(signing_keys.private_file(stack))]) == 0
    signing_keys.prepare(stack)
    supervisor.ctl(stack, "restart", "auth_service", "api_service")
    deadline = time.monotonic() + 60
    for path in ("/auth/healthz", "/api/healthz"):
        while requests.get(eddsa_stack.base_url + path, timeout=5).status_code != 200:
            assert time.monotonic() < deadline, f"{path} did not come back"
            time.sleep(0.2)


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_publish_sign_remove_keeps_every_token_until_its_key_goes(eddsa_stack, eddsa_api):
    user = eddsa_api.create_user()
    before = eddsa_api.login(user["username"], user["password"])
    old_kid = _kid(before["access_token"])

    # 1. Publish the next key: in the set, not signing yet.
    _rotate(eddsa_stack, "add", "EdDSA", "--kid", "next-key")
    published = [key["kid"] for key in access_token_jwks(eddsa_api.get(JWKS_PATH).json())]
    assert published == [old_kid, "next-key"]
    during = eddsa_api.login(user["username"], user["password"])
    assert _kid(during["access_token"]) == old_kid

    # 2. Sign with it (after the published max-age, in real life).
    _rotate(eddsa_stack, "promote", "next-key")
    after = eddsa_api.login(user["username"], user["password"])
    assert _kid(after["access_token"]) == "next-key"
    for tokens in (before, during, after):
        assert eddsa_api.me(tokens["access_token"]).status_code == 200

    # 3. Remove the old key: what it signed is refused; a refresh gets a new-key token.
    _rotate(eddsa_stack, "remove", old_kid)
    assert [key["kid"] for key in access_token_jwks(eddsa_api.get(JWKS_PATH).json())] == ["next-key"]
    assert eddsa_api.me(after["access_token"]).status_code == 200
    for tokens in (before, during):
        assert_error(eddsa_api.me(tokens["access_token"]), 401, "invalid_token")
    refreshed = eddsa_api.post("/auth/refresh", {"refresh_token": before["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert _kid(refreshed.json()["access_token"]) == "next-key"
    assert eddsa_api.me(refreshed.json()["access_token"]).status_code == 200
