"""The identity headers the gateway hands the upstream, for both kinds of token (no stack needed)."""

from api_app.gateway import identity_headers
from authcore.tokens import AccessClaims


def _claims(session_id):
    return AccessClaims(
        user_id="u1",
        username="alice",
        session_id=session_id,
        token_id="t1",
        issued_at=1.0,
        expires_at=2,
        roles=("b", "a"),
    )


def test_an_access_token_names_its_session():
    headers = dict(identity_headers(_claims("s1")))
    assert headers == {
        "X-Auth-User-Id": "u1",
        "X-Auth-Username": "alice",
        "X-Auth-Roles": "a,b",
        "X-Auth-Session-Id": "s1",
    }


def test_a_personal_access_token_has_no_session_header():
    headers = dict(identity_headers(_claims(None)))
    assert "X-Auth-Session-Id" not in headers
    assert headers["X-Auth-User-Id"] == "u1" and headers["X-Auth-Roles"] == "a,b"
