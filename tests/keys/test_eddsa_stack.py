"""A stack with JWT_ALG=EdDSA: the flows, the published set, key confusion, and what api_service holds.

Everything goes through nginx like any client, except the check of
api_service's own environment and files, which reads its processes
(``/proc/<pid>/environ``) as the runner started them.
"""

import base64
import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.helpers import GATEWAY_PATH, access_token_jwks, assert_error

JWKS_PATH = "/.well-known/jwks.json"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def segment(value) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def issuer_and_audience(eddsa_stack) -> tuple[str, str]:
    env = eddsa_stack.stack.env
    return env.get("JWT_ISSUER") or "authstack", env.get("JWT_AUDIENCE") or "authstack-api"


def test_the_set_lists_the_signing_key_and_tokens_name_it(eddsa_api, eddsa_user):
    response = eddsa_api.get(JWKS_PATH)
    assert response.status_code == 200, response.text
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    (key,) = access_token_jwks(response.json())
    assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
    assert len(unb64(key["x"])) == 32
    header = jwt.get_unverified_header(eddsa_user["access_token"])
    assert header == {"alg": "EdDSA", "kid": key["kid"], "typ": "at+jwt"}


def test_login_me_refresh_logout_and_the_gateway_work_under_eddsa(eddsa_api, eddsa_user):
    token = eddsa_user["access_token"]
    me = eddsa_api.me(token)
    assert me.status_code == 200 and me.json()["username"] == eddsa_user["username"]
    assert eddsa_api.get(GATEWAY_PATH, token=token).status_code == 200
    refreshed = eddsa_api.post("/auth/refresh", {"refresh_token": eddsa_user["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new_token = refreshed.json()["access_token"]
    assert eddsa_api.me(new_token).status_code == 200
    # Revocation still holds on the next request, in api_service and in the gateway.
    assert eddsa_api.post("/auth/logout", {}, token=new_token).status_code == 204
    assert_error(eddsa_api.me(new_token), 401, "invalid_token")
    assert_error(eddsa_api.get(GATEWAY_PATH, token=new_token), 401, "invalid_token")


def test_pyjwkclient_verifies_a_real_token_through_the_published_set(eddsa_stack, eddsa_user):
    issuer, audience = issuer_and_audience(eddsa_stack)
    token = eddsa_user["access_token"]
    client = jwt.PyJWKClient(eddsa_stack.base_url + JWKS_PATH, cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["EdDSA"], issuer=issuer, audience=audience)
    assert claims["username"] == eddsa_user["username"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    h, p, s = token.split(".")
    tampered_payload = segment({**claims, "roles": ["admin"]})
    for tampered in (
        f"{h}.{tampered_payload}.{s}",
        f"{h}.{p}.{s[:10]}{'A' if s[10] != 'A' else 'B'}{s[11:]}",
    ):
        with pytest.raises(jwt.InvalidTokenError):
            jwt.decode(tampered, key, algorithms=["EdDSA"], issuer=issuer, audience=audience)


def test_key_confusion_probes_are_refused_through_nginx(eddsa_api, eddsa_user):
    """jwt_tool's playbook against the published key: each forgery 401, the genuine token 200."""
    genuine = eddsa_user["access_token"]
    h, p, s = genuine.split(".")
    header = json.loads(unb64(h))
    jwk = access_token_jwks(eddsa_api.get(JWKS_PATH).json())[0]
    payload = json.loads(unb64(p)) | {"roles": ["admin"]}
    forged = []
    # HS256 keyed with the published public key (the JWK's JSON, its raw x, its PEM).
    raw_public = unb64(jwk["x"])
    pem = ed25519.Ed25519PublicKey.from_public_bytes(raw_public).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (json.dumps(jwk).encode(), raw_public, pem, jwk["x"].encode()):
        signing_input = f"{segment(header | {'alg': 'HS256'})}.{segment(payload)}"
        forged.append(
            f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
        )
    # alg none.
    for alg in ("none", "None"):
        forged.append(f"{segment(header | {'alg': alg})}.{segment(payload)}.")
    # The attacker's own Ed25519 key: embedded (jwk), by URL (jku, x5u), under an unknown kid, as ES256.
    attacker = ed25519.Ed25519PrivateKey.generate()
    attacker_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key()))
    for extra in (
        {"jwk": attacker_jwk},
        {"jku": "http://127.0.0.1:9/jwks.json"},
        {"x5u": "http://127.0.0.1:9/cert.pem"},
        {"kid": "attacker"},
        {"alg": "ES256"},
        {},
    ):
        signing_input = f"{segment(header | extra)}.{segment(payload)}"
        forged.append(f"{signing_input}.{b64(attacker.sign(signing_input.encode()))}")
    # The genuine signature with a kid that is not in the set.
    forged.append(f"{segment(header | {'kid': 'other'})}.{p}.{s}")
    for token in forged:
        assert_error(eddsa_api.me(token), 401, "invalid_token")
        assert_error(eddsa_api.get(GATEWAY_PATH, token=token), 401, "invalid_token")
    assert eddsa_api.me(genuine).status_code == 200  # the control


def _processes_of(eddsa_stack, program: str) -> list[int]:
    """The pids of a supervisord program: its main process and its children (gunicorn workers)."""
    from runner.supervisor import VENV_BIN

    stack = eddsa_stack.stack
    conf = stack.path("supervisord.conf")
    output = subprocess.run(
        [str(VENV_BIN / "supervisorctl"), "-c", str(conf), "pid", program],
        capture_output=True, text=True, check=True, env=stack.env,
    ).stdout  # fmt: skip
    main = int(output.strip())
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == main:
            children.append(int(stat.parent.name))
    return [main, *children]


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(entry.split("=", 1) for entry in raw.decode().split("\0") if "=" in entry)


def test_api_service_holds_no_private_key_or_secret(eddsa_stack):
    stack = eddsa_stack.stack
    secret_values = [stack.env["JWT_KEYS"].partition(":")[2], stack.env["JWT_KEYS"]]
    private_file = json.loads(stack.path("keys", "jwt-private.jwks.json").read_text())
    secret_values += [jwk["d"] for jwk in private_file["keys"]]
    pids = _processes_of(eddsa_stack, "api_service")
    assert len(pids) >= 2, "a gunicorn master and its workers"
    for pid in pids:
        environment = _environment(pid)
        assert environment.get("JWT_ALG") == "EdDSA"
        for name in ("JWT_SECRET", "JWT_SECRET_FILE", "JWT_KEYS", "JWT_KEYS_FILE", "JWT_PRIVATE_KEYS_FILE"):
            assert environment.get(name, "") == "", name
        everything = "\n".join(environment.values())
        assert not any(value in everything for value in secret_values)
        # Every file its settings name holds public keys only.
        for name, value in environment.items():
            if name.endswith("_FILE") and value and Path(value).is_file():
                text = Path(value).read_text()
                assert not any(secret in text for secret in secret_values), name
                if name == "JWT_PUBLIC_KEYS_FILE":
                    assert all("d" not in jwk for jwk in json.loads(text)["keys"])
    # auth_service, the signer, does hold the private set.
    (auth_main, *_) = _processes_of(eddsa_stack, "auth_service")
    assert _environment(auth_main)["JWT_PRIVATE_KEYS_FILE"].endswith("jwt-private.jwks.json")
    assert oct(stack.path("keys", "jwt-private.jwks.json").stat().st_mode & 0o777) == "0o600"
