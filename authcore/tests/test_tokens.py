"""Unit tests of the access-token rules (docs/API.md "Tokens")."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from authcore.settings import SigningKey, TokenSettings
from authcore.tokens import AccessTokenVerifier, InvalidToken, issue_access_token

SECRET_A = b"a" * 16 + b"0123456789abcdef0123"
SECRET_B = b"b" * 16 + b"fedcba9876543210fedc"


def settings(*keys: SigningKey, leeway: int = 10) -> TokenSettings:
    return TokenSettings(
        keys=keys or (SigningKey("k1", SECRET_A),),
        issuer="iss-test",
        audience="aud-test",
        access_ttl=900,
        refresh_ttl=3600,
        leeway=leeway,
    )


def issue(token_settings: TokenSettings, **overrides):
    fields = {"user_id": "u1", "username": "alice", "session_id": "s1", "roles": ["b", "a"]}
    return issue_access_token(token_settings, **(fields | overrides))


def valid_payload(now: float | None = None) -> dict:
    now = time.time() if now is None else now
    return {
        "iss": "iss-test",
        "aud": "aud-test",
        "sub": "u1",
        "sid": "s1",
        "jti": "j1",
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 900,
        "roles": [],
        "username": "alice",
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(payload: dict, secret: bytes = SECRET_A, alg: str = "HS256", **header) -> str:
    """Sign by hand, so that headers PyJWT would refuse to write can be tested."""
    full_header = {"alg": alg, "kid": "k1", "typ": "at+jwt"} | header
    signing_input = f"{_b64(json.dumps(full_header).encode())}.{_b64(json.dumps(payload).encode())}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_issued_token_verifies_with_its_claims():
    token_settings = settings()
    token, claims = issue(token_settings)
    verified = AccessTokenVerifier(token_settings).verify(token)
    assert verified == claims
    assert verified.roles == ("a", "b")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "k1", "typ": "at+jwt"}


def test_issued_at_keeps_milliseconds_rounded_down():
    _, claims = issue(settings(), now=1000.98765)
    assert claims.issued_at == 1000.987


def test_every_key_verifies_and_the_first_signs():
    old, new = SigningKey("old", SECRET_A), SigningKey("new", SECRET_B)
    token_old, _ = issue(settings(old))
    rotated = settings(new, old)
    token_new, _ = issue(rotated)
    verifier = AccessTokenVerifier(rotated)
    assert verifier.verify(token_old).user_id == "u1"
    assert jwt.get_unverified_header(token_new)["kid"] == "new"
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(settings(new)).verify(token_old)  # old key removed


@pytest.mark.parametrize(
    "header",
    [
        {"kid": "unknown"},
        {"kid": None},
        {"kid": 1},
        {"typ": "JWT"},
        {"typ": "rt+jwt"},
        {"jku": "http://127.0.0.1:1/keys"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5u": "http://127.0.0.1:1/cert"},
        {"crit": ["exp"]},
    ],
)
def test_header_tricks_are_rejected(header):
    token = sign(valid_payload(), **header)
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(settings()).verify(token)


@pytest.mark.parametrize(
    "missing", ["iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "roles", "username"]
)
def test_every_claim_is_required(missing):
    payload = valid_payload()
    del payload[missing]
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(settings()).verify(sign(payload))


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "other"},
        {"aud": "other"},
        {"aud": ["aud-test", "other"]},
        {"sub": 1},
        {"sid": ""},
        {"roles": "admin"},
        {"roles": [1]},
        {"iat": True},
        {"exp": "9999999999"},
        {"username": None},
    ],
)
def test_wrong_values_and_types_are_rejected(change):
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(settings()).verify(sign(valid_payload() | change))


def test_time_claims_respect_the_leeway():
    now = time.time()
    verifier = AccessTokenVerifier(settings(leeway=10))
    verifier.verify(sign(valid_payload() | {"exp": int(now) - 5}))  # within leeway
    for change in ({"exp": int(now) - 15}, {"nbf": int(now) + 60}, {"iat": now + 60}):
        with pytest.raises(InvalidToken):
            verifier.verify(sign(valid_payload() | change))


def test_other_algorithms_and_keys_are_rejected():
    payload = valid_payload()
    verifier = AccessTokenVerifier(settings())
    forged = [
        sign(payload, alg="HS512"),
        sign(payload, alg="HS384"),
        sign(payload, secret=SECRET_B),
        sign(payload)[:-2],
    ]
    for token in forged:
        with pytest.raises(InvalidToken):
            verifier.verify(token)


@pytest.mark.parametrize("junk", ["", "a.b", "a.b.c.d", "x" * 5000, "ä.b.c", "a.b.c=", "a+b.c.d"])
def test_garbage_is_rejected_without_other_exceptions(junk):
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(settings()).verify(junk)


def test_the_hand_signed_baseline_is_valid():
    """The forgeries above differ from this valid token in one thing each."""
    assert AccessTokenVerifier(settings()).verify(sign(valid_payload())).username == "alice"
