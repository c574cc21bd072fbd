"""The optional ``email_verified`` claim of access tokens (docs/API.md "Tokens")."""

import time

import jwt
import pytest

from authcore.settings import SigningKey, TokenSettings
from authcore.tokens import AccessTokenVerifier, InvalidToken, issue_access_token

SECRET = b"e" * 16 + b"0123456789abcdef0123"
SETTINGS = TokenSettings(
    keys=(SigningKey("k1", SECRET),), issuer="iss-test", audience="aud-test", access_ttl=900, refresh_ttl=3600
)


def signed(**extra) -> str:
    now = time.time()
    payload = {
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
    } | extra
    return jwt.encode(payload, SECRET, algorithm="HS256", headers={"kid": "k1", "typ": "at+jwt"})


@pytest.mark.parametrize("verified", [True, False])
def test_issued_tokens_carry_the_claim(verified):
    token, claims = issue_access_token(
        SETTINGS, user_id="u1", username="alice", session_id="s1", roles=[], email_verified=verified
    )
    assert claims.email_verified is verified
    assert jwt.decode(token, options={"verify_signature": False})["email_verified"] is verified
    assert AccessTokenVerifier(SETTINGS).verify(token).email_verified is verified


def test_tokens_from_before_the_claim_read_as_unverified():
    assert AccessTokenVerifier(SETTINGS).verify(signed()).email_verified is False


@pytest.mark.parametrize("value", [1, "true", None, [], {}])
def test_a_claim_that_is_not_a_boolean_is_refused(value):
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(SETTINGS).verify(signed(email_verified=value))
