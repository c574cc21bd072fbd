"""Node's ``jose`` (``createRemoteJWKSet``) verifies the EdDSA stack's tokens through nginx.

A third-party service in another language: it fetches ``/.well-known/jwks.json``
from the published port and checks signature, ``iss``, ``aud`` and ``typ``.
The verifier lives in tests/js (its own package.json and lock file;
`make venv` and the compose suite image run ``npm ci`` there).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack_env import STACK_RUN_FLAG

JS_DIR = Path(__file__).resolve().parents[1] / "js"


def _node() -> str:
    node = shutil.which("node")
    if node and (JS_DIR / "node_modules" / "jose").is_dir():
        return node
    message = "node and tests/js/node_modules are needed (make venv runs npm ci in tests/js)"
    if os.environ.get(STACK_RUN_FLAG):
        pytest.fail(message)
    pytest.skip(message)


def test_jose_verifies_a_real_token_and_refuses_a_tampered_one(eddsa_stack, eddsa_user):
    node = _node()
    env = eddsa_stack.stack.env
    issuer, audience = env.get("JWT_ISSUER") or "authstack", env.get("JWT_AUDIENCE") or "authstack-api"
    token = eddsa_user["access_token"]
    h, p, s = token.split(".")
    flipped = s[:5] + ("B" if s[5] != "B" else "C") + s[6:]
    tampered_payload = p[:-2] + ("A" if p[-2] != "A" else "B") + p[-1]
    command = [
        node, str(JS_DIR / "verify.mjs"), eddsa_stack.base_url + "/.well-known/jwks.json", issuer, audience,
        token, f"{h}.{p}.{flipped}", f"{h}.{tampered_payload}.{s}",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=JS_DIR)
    assert completed.returncode == 0, completed.stderr
    genuine, bad_signature, bad_payload = json.loads(completed.stdout.strip().splitlines()[-1])
    assert genuine == {"ok": True, "sub": eddsa_user["id"], "kid": genuine["kid"], "alg": "EdDSA"}, genuine
    assert bad_signature["ok"] is False and bad_signature["code"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    assert bad_payload["ok"] is False


def test_jose_refuses_a_token_for_another_audience(eddsa_stack, eddsa_user):
    node = _node()
    command = [
        node, str(JS_DIR / "verify.mjs"), eddsa_stack.base_url + "/.well-known/jwks.json",
        "authstack", "someone-else", eddsa_user["access_token"],
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=JS_DIR)
    (result,) = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result == {"ok": False, "code": "ERR_JWT_CLAIM_VALIDATION_FAILED"}
