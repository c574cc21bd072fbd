"""The hand-written verifier accepts exactly what ``jwt.decode`` with the same rules accepts.

AccessTokenVerifier does by hand what PyJWT did (for speed, see
bench/PERFORMANCE.md); this pins it to the reference on many variants of
one valid token, each changed in one header field or claim.
"""

import base64
import hashlib
import hmac
import itertools
import json
import time

import jwt
import pytest

from authcore.settings import SigningKey, TokenSettings
from authcore.tokens import (
    ACCESS_TOKEN_TYPE,
    ALGORITHM,
    ALLOWED_HEADER_FIELDS,
    REQUIRED_CLAIMS,
    AccessTokenVerifier,
    InvalidToken,
    _typed_claims,
)

SECRET_A = b"a" * 16 + b"0123456789abcdef0123"
SECRET_B = b"b" * 16 + b"fedcba9876543210fedc"


def settings(*keys: SigningKey) -> TokenSettings:
    return TokenSettings(
        keys=keys or (SigningKey("k1", SECRET_A),),
        issuer="iss-test",
        audience="aud-test",
        access_ttl=900,
        refresh_ttl=3600,
        leeway=10,
    )


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


def sign(payload: dict, secret: bytes = SECRET_A, header: dict | None = None) -> str:
    """Sign by hand (as test_tokens.py does), so any header can be tested."""
    full_header = {"alg": "HS256", "kid": "k1", "typ": "at+jwt"} | (header or {})
    signing_input = f"{_b64(json.dumps(full_header).encode())}.{_b64(json.dumps(payload).encode())}"
    digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(full_header["alg"], hashlib.sha256)
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def reference_verify(token_settings, token: str):
    """The rules as PyJWT enforces them (the verifier before it was written by hand)."""
    secrets = {key.kid: key.secret for key in token_settings.keys}
    header = jwt.get_unverified_header(token)
    if set(header) - ALLOWED_HEADER_FIELDS:
        raise InvalidToken("header")
    if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("alg/typ")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in secrets:
        raise InvalidToken("kid")
    payload = jwt.decode(
        token,
        secrets[kid],
        algorithms=[ALGORITHM],
        audience=token_settings.audience,
        issuer=token_settings.issuer,
        leeway=token_settings.leeway,
        options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
    )
    return _typed_claims(payload)


def outcome(verify, token_settings, token):
    try:
        return verify(token_settings, token)
    except (InvalidToken, jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        return type(exc) if isinstance(exc, InvalidToken) else "rejected"


NOW = time.time()
CLAIM_VALUES = {
    "iss": ["iss-test", "other", None, 1, ["iss-test"]],
    "aud": ["aud-test", ["aud-test"], "other", None, 1],
    "sub": ["u1", "", 1, None, ["u1"]],
    "exp": [int(NOW) + 900, int(NOW) - 5, int(NOW) - 15, NOW + 900.5, "9999999999", True, None, 1e30],
    "nbf": [int(NOW), int(NOW) + 5, int(NOW) + 60, NOW, "0", None],
    "iat": [NOW, NOW + 5, NOW + 60, int(NOW), False, "1", None],
    "roles": [[], ["admin"], "admin", [1], None, {}],
    "username": ["alice", "", None, 3],
}
HEADERS = [
    {},
    {"kid": "k2"},
    {"kid": "nope"},
    {"kid": 1},
    {"typ": "JWT"},
    {"typ": "AT+JWT"},
    {"alg": "none"},
    {"alg": "HS512"},
    {"cty": "JWT"},
    {"b64": False},
]

CASES = [("claim", name, value) for name, values in CLAIM_VALUES.items() for value in values]
CASES += [("header", i, header) for i, header in enumerate(HEADERS)]
CASES += [("missing", name, None) for name in REQUIRED_CLAIMS]


@pytest.mark.parametrize(("kind", "name", "value"), CASES)
def test_same_verdict_as_pyjwt(kind, name, value):
    token_settings = settings(SigningKey("k1", SECRET_A), SigningKey("k2", SECRET_B))
    payload = valid_payload(NOW)
    header = {}
    if kind == "claim":
        payload[name] = value
    elif kind == "missing":
        del payload[name]
    else:
        header = value
    secret = SECRET_B if header.get("kid") == "k2" else SECRET_A
    token = sign(payload, secret=secret, header=header)
    mine = outcome(lambda s, t: AccessTokenVerifier(s).verify(t), token_settings, token)
    reference = outcome(reference_verify, token_settings, token)
    accepted = not isinstance(mine, type) and mine != "rejected"
    assert accepted == (not isinstance(reference, type) and reference != "rejected"), (mine, reference)
    if accepted:
        assert mine == reference


@pytest.mark.parametrize("cut", list(itertools.product(range(3), (1, 2, 5))))
def test_same_verdict_on_damaged_segments(cut):
    segment, length = cut
    token = sign(valid_payload())
    parts = token.split(".")
    parts[segment] = parts[segment][:-length]
    damaged = ".".join(parts)
    mine = outcome(lambda s, t: AccessTokenVerifier(s).verify(t), settings(), damaged)
    assert mine is InvalidToken
