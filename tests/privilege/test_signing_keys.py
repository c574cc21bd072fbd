"""api_service holds no signing key: checked from inside it, in the local stack and in compose.

The probe runs as api_service runs (``service-exec``: its settings and OS
user locally, inside its container in compose). It never finds a private
key setting, and every key file its settings name holds public keys only;
under an asymmetric ``JWT_ALG`` it holds no shared secret either. (The
EdDSA stack of tests/keys checks the live processes' environment too.)
"""

PROBE = """
import json, os
env = {k: v for k, v in os.environ.items() if k.startswith("JWT_")}
alg = env.get("JWT_ALG") or "HS256"
private_members = {"d", "p", "q", "dp", "dq", "qi", "k"}
secret_names = ("JWT_SECRET", "JWT_SECRET_FILE", "JWT_KEYS", "JWT_KEYS_FILE")
public_file = env.get("JWT_PUBLIC_KEYS_FILE", "")
public_private = None
if public_file:
    with open(public_file) as handle:
        public_private = any(private_members & set(jwk) for jwk in json.load(handle)["keys"])
print(json.dumps({
    "alg": alg,
    "private_setting": bool(env.get("JWT_PRIVATE_KEYS_FILE")),
    "secret_settings": sorted(name for name in secret_names if env.get(name)),
    "public_file_has_private_members": public_private,
}))
"""


def test_api_service_holds_no_private_key_and_under_an_asymmetric_alg_no_secret(privileges):
    seen = privileges.probe("service", "api_service", PROBE)
    assert seen["private_setting"] is False, seen
    assert seen["public_file_has_private_members"] in (None, False), seen
    if seen["alg"] != "HS256":
        assert seen["secret_settings"] == [], seen
        assert seen["public_file_has_private_members"] is False, seen
