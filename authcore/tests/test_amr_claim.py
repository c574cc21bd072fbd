"""The ``amr`` claim (RFC 8176) and the one second-factor rule: "mfa" in amr."""

import time

import jwt
import pytest
from flask import Flask

from authcore.bearer import Authenticator, has_second_factor, require_token
from authcore.errors import register_error_handlers
from authcore.settings import SigningKey, TokenSettings
from authcore.tokens import AccessTokenVerifier, InvalidToken, issue_access_token

SECRET = b"a" * 16 + b"0123456789abcdef0123"
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


def issue(amr) -> str:
    token, _ = issue_access_token(
        SETTINGS, user_id="u1", username="alice", session_id="s1", roles=[], amr=amr
    )
    return token


def test_issued_tokens_carry_amr_sorted():
    token = issue(["pwd", "otp", "mfa", "otp"])
    assert jwt.decode(token, options={"verify_signature": False})["amr"] == ["mfa", "otp", "pwd"]
    claims = AccessTokenVerifier(SETTINGS).verify(token)
    assert claims.amr == ("mfa", "otp", "pwd") and has_second_factor(claims)


def test_tokens_from_before_the_claim_read_as_empty_amr():
    claims = AccessTokenVerifier(SETTINGS).verify(signed())
    assert claims.amr == () and not has_second_factor(claims)


@pytest.mark.parametrize("value", ["mfa", 1, None, {"mfa": True}, [1], ["mfa", None]])
def test_an_amr_that_is_not_a_list_of_strings_is_refused(value):
    with pytest.raises(InvalidToken):
        AccessTokenVerifier(SETTINGS).verify(signed(amr=value))


class _NothingRevoked:
    def is_revoked(self, claims) -> bool:
        return False


@pytest.fixture
def client():
    app = Flask(__name__)
    register_error_handlers(app, ())
    app.extensions["authenticator"] = Authenticator(AccessTokenVerifier(SETTINGS), _NothingRevoked())

    @app.get("/strong")
    @require_token(mfa=True)
    def strong():
        return {"ok": True}

    return app.test_client()


@pytest.mark.parametrize(
    ("amr", "status"), [(["pwd"], 403), ([], 403), (["otp", "pwd"], 403), (["mfa", "otp", "pwd"], 200)]
)
def test_require_token_mfa(client, amr, status):
    response = client.get("/strong", headers={"Authorization": f"Bearer {issue(amr)}"})
    assert response.status_code == status
    if status == 403:
        assert response.json["error"] == "mfa_required"
