"""The code flow with panva's ``openid-client`` (Node, OpenID Certified), through nginx at PUBLIC_URL.

tests/js/relying_party.mjs runs discovery, PKCE, the authorization URL, the
code exchange with the ID token's signature checked against the published
key set, userinfo, a refresh and a revocation; Chromium logs in on our page
in between. Skipped where node or Chromium is missing (the compose suite
image has no browser).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import assert_error
from tests.oidc.flow import sign_in_in_browser
from tests.stack_env import STACK_RUN_FLAG

JS_DIR = Path(__file__).resolve().parents[1] / "js"
REDIRECT_URI = "http://127.0.0.1:9/openid-client/callback"


def _node() -> str:
    node = shutil.which("node")
    if node and (JS_DIR / "node_modules" / "openid-client").is_dir():
        return node
    message = "node and tests/js/node_modules are needed (make venv runs npm ci in tests/js)"
    if os.environ.get(STACK_RUN_FLAG):
        pytest.fail(message)
    pytest.skip(message)


def test_openid_client_signs_in_validates_refreshes_and_revokes(
    chromium, api, new_user, register_client, discovery, public_url
):
    node = _node()
    client = register_client(first_party=True, redirect_uris=[REDIRECT_URI])
    command = [
        node,
        str(JS_DIR / "relying_party.mjs"),
        public_url,
        client["client_id"],
        client["client_secret"],
        REDIRECT_URI,
    ]
    # localhost: Node tries ::1 first; the local stack listens on 127.0.0.1.
    env = {**os.environ, "NODE_OPTIONS": "--dns-result-order=ipv4first"}
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            first = json.loads(process.stdout.readline())
            callback = sign_in_in_browser(chromium, first["authorization_url"], new_user, REDIRECT_URI)
            result_line, _ = process.communicate(callback + "\n", timeout=60)
        finally:
            process.kill()
    result = json.loads(result_line.strip().splitlines()[-1])
    assert result["ok"], result
    claims = result["claims"]
    assert (
        claims["iss"] == public_url
        and claims["aud"] in (client["client_id"], [client["client_id"]])
        and claims["sub"] == new_user["id"]
    )
    assert claims["email"] == new_user["email"] and claims["amr"] == ["pwd"] and claims["nonce"]
    assert result["userinfo"]["sub"] == new_user["id"]
    assert result["userinfo"]["preferred_username"] == new_user["username"]
    assert result["refreshed"]["rotated"] is True
    # Revoking the refresh token ended the client's session: its access token is refused now.
    assert_error(api.me(result["revoked_access_token"]), 401, "invalid_token")
