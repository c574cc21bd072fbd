"""Unit tests of EdDSA/ES256 access tokens: algorithm pinning, key confusion, rotation.

The same probes run through nginx against an EdDSA stack in
tests/security/test_key_confusion.py; here they also cover ES256 and the
rotation steps of docs/OPERATIONS.md without a stack.
"""

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authcore import keys as key_sets
from authcore.settings import TokenSettings
from authcore.tokens import AccessTokenVerifier, InvalidToken, issue_access_token


def token_settings(alg: str, keys: tuple, public_only: bool = False) -> TokenSettings:
    if public_only:
        keys = tuple(key_sets.AsymmetricKey(key.kid, key.algorithm, key.public_key) for key in keys)
    return TokenSettings(
        keys=(),
        issuer="iss-test",
        audience="aud-test",
        access_ttl=900,
        refresh_ttl=3600,
        algorithm=alg,
        asymmetric_keys=keys,
    )


def issue(settings: TokenSettings) -> str:
    token, _ = issue_access_token(settings, user_id="u1", username="alice", session_id="s1", roles=["user"])
    return token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def reheader(token: str, **changes) -> tuple[dict, str, str]:
    header_segment, payload_segment, _ = token.split(".")
    header = json.loads(unb64(header_segment)) | changes
    header = {name: value for name, value in header.items() if value is not None}
    return header, b64(json.dumps(header).encode()), payload_segment


@pytest.fixture(params=["EdDSA", "ES256"])
def pair(request):
    """(signer settings, verifier with public keys only) for one algorithm."""
    key = key_sets.generate_key(request.param, "k1")
    return token_settings(request.param, (key,)), AccessTokenVerifier(
        token_settings(request.param, (key,), True)
    )


def test_a_genuine_token_verifies_with_the_public_key_alone(pair):
    signer, verifier = pair
    claims = verifier.verify(issue(signer))
    assert claims.user_id == "u1" and claims.roles == ("user",)
    header = jwt.get_unverified_header(issue(signer))
    assert header == {"alg": signer.algorithm, "kid": "k1", "typ": "at+jwt"}


def test_a_verifier_holding_public_keys_cannot_sign(pair):
    signer, _ = pair
    with pytest.raises(RuntimeError):
        issue(token_settings(signer.algorithm, signer.asymmetric_keys, public_only=True))


def test_the_key_confusion_probes_are_refused(pair):
    """jwt_tool's playbook: alg none, HS256 keyed with the public key, header keys, unknown kid."""
    signer, verifier = pair
    genuine = issue(signer)
    public_jwk = signer.asymmetric_keys[0].public_jwk()
    public_forms = [
        json.dumps(public_jwk).encode(),
        json.dumps(public_jwk, separators=(",", ":")).encode(),
        unb64(public_jwk["x"]),
        signer.asymmetric_keys[0].public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    ]
    forged = []
    # HS256 signed with the public key as the HMAC secret, in every spelling of it.
    for secret in public_forms:
        _, h, p = reheader(genuine, alg="HS256")
        forged.append(f"{h}.{p}.{b64(hmac.new(secret, f'{h}.{p}'.encode(), hashlib.sha256).digest())}")
    # alg none, with and without a signature.
    for alg in ("none", "None", "NONE"):
        _, h, p = reheader(genuine, alg=alg)
        forged += [f"{h}.{p}.", f"{h}.{p}.{genuine.split('.')[2]}"]
    # An attacker's own key, announced in the header (jwk), or by URL (jku, x5u).
    attacker = key_sets.generate_key(signer.algorithm, "k1")
    for extra in (
        {"jwk": attacker.public_jwk()},
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/c"},
    ):
        token = jwt.encode(
            {},
            attacker.private_key,
            algorithm=signer.algorithm,
            headers={"kid": "k1", "typ": "at+jwt", **extra},
        )
        _, h, p = reheader(token)
        payload = genuine.split(".")[1]
        signing_input = f"{h}.{payload}"
        signature = jwt.get_algorithm_by_name(signer.algorithm).sign(
            signing_input.encode(), attacker.private_key
        )
        forged.append(f"{signing_input}.{b64(signature)}")
    # The genuine signature under a kid not in the set, or none at all.
    for kid in ("k2", "", None, 1, ["k1"]):
        _, h, p = reheader(genuine, kid=kid)
        forged.append(f"{h}.{p}.{genuine.split('.')[2]}")
    # The attacker's key under the genuine kid (a plain forgery).
    forged.append(
        jwt.encode(
            jwt.decode(genuine, options={"verify_signature": False}),
            attacker.private_key,
            algorithm=signer.algorithm,
            headers={"kid": "k1", "typ": "at+jwt"},
        )
    )
    for token in forged:
        with pytest.raises(InvalidToken):
            verifier.verify(token)
    assert verifier.verify(genuine).user_id == "u1"  # the control


def test_a_token_of_the_other_asymmetric_algorithm_is_refused():
    """An EdDSA token under ES256 and the reverse, even with a matching kid."""
    for signed_with, configured in (("EdDSA", "ES256"), ("ES256", "EdDSA")):
        token = issue(token_settings(signed_with, (key_sets.generate_key(signed_with, "k1"),)))
        verifier = AccessTokenVerifier(
            token_settings(configured, (key_sets.generate_key(configured, "k1"),), True)
        )
        with pytest.raises(InvalidToken):
            verifier.verify(token)


def test_an_hs256_verifier_refuses_asymmetric_tokens_and_the_reverse():
    from authcore.settings import SigningKey

    secret = b"s" * 8 + bytes(range(40))
    hs = TokenSettings(
        keys=(SigningKey("k1", secret),),
        issuer="iss-test",
        audience="aud-test",
        access_ttl=900,
        refresh_ttl=3600,
    )
    ed = token_settings("EdDSA", (key_sets.generate_key("EdDSA", "k1"),))
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(hs).verify(issue(ed))
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(token_settings("EdDSA", ed.asymmetric_keys, True)).verify(issue(hs))


def test_a_non_canonical_signature_spelling_is_refused(pair):
    signer, verifier = pair
    h, p, s = issue(signer).split(".")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # Same bytes, other spelling: one of the 4 unused low bits set.
    respelled = s[:-1] + last[last.index(s[-1]) + 1]
    assert unb64(respelled) == unb64(s)
    with pytest.raises(InvalidToken):
        verifier.verify(f"{h}.{p}.{respelled}")


def test_rotation_publish_then_sign_then_remove():
    """docs/OPERATIONS.md "Rotating keys": no token is refused until its key is removed."""
    old = key_sets.generate_key("EdDSA", "old")
    new = key_sets.generate_key("EdDSA", "new")
    before = issue(token_settings("EdDSA", (old,)))
    # Step 1: the next key is published (verifies, doesn't sign yet).
    published = token_settings("EdDSA", (old, new))
    verifier = AccessTokenVerifier(token_settings("EdDSA", (old, new), True))
    during = issue(published)
    assert jwt.get_unverified_header(during)["kid"] == "old"
    # Step 2: once the published max-age has passed, it signs.
    promoted = token_settings("EdDSA", (new, old))
    after = issue(promoted)
    assert jwt.get_unverified_header(after)["kid"] == "new"
    verifier = AccessTokenVerifier(token_settings("EdDSA", (new, old), True))
    for token in (before, during, after):
        assert verifier.verify(token).user_id == "u1"
    # Step 3: once the old key's last token has expired, it goes; what it signed is refused.
    verifier = AccessTokenVerifier(token_settings("EdDSA", (new,), True))
    assert verifier.verify(after).user_id == "u1"
    for token in (before, during):
        with pytest.raises(InvalidToken) as caught:
            verifier.verify(token)
        assert caught.value.result == "unknown_kid"
