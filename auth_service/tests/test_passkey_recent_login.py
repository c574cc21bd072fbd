"""The recent-login rule: adding or removing a passkey needs a session signed in at most 10 minutes ago.

The session's ``created_at`` is its sign-in (a refresh keeps it); these
tests age it in Postgres rather than wait.
"""

import secrets
import uuid

from auth_app.factors.passkeys import RelyingParty
from tests.soft_authenticator import SoftAuthenticator


def _signed_in(app, client) -> tuple[str, uuid.UUID]:
    """A new user's access token and its session id."""
    name = "p-" + secrets.token_hex(5)
    body = {"username": name, "email": f"{name}@example.com", "password": "password-1"}
    assert client.post("/auth/signup", json=body).status_code == 201
    tokens = client.post("/auth/login", json={"username": name, "password": "password-1"}).get_json()
    me = app.extensions["authenticator"].authenticate_header(f"Bearer {tokens['access_token']}")
    return tokens["access_token"], uuid.UUID(me.session_id)


def _age(app, session_id: uuid.UUID, minutes: int) -> None:
    with app.extensions["pool"].connection() as conn:
        conn.execute(
            "UPDATE sessions SET created_at = now() - make_interval(mins => %s) WHERE id = %s",
            (minutes, session_id),
        )


def _headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _relying_party(app) -> RelyingParty:
    rp: RelyingParty | None = app.extensions["passkeys"]._settings.webauthn
    assert rp is not None, "the test stack's PUBLIC_URL is a domain (localhost)"
    return rp


def test_a_session_older_than_ten_minutes_may_not_add_or_remove(app, client):
    token, session_id = _signed_in(app, client)
    _age(app, session_id, 11)
    refused = client.post("/auth/passkeys/register/options", json={}, headers=_headers(token))
    assert refused.status_code == 403 and refused.get_json()["error"] == "reauthentication_required"
    gone = client.delete(f"/auth/passkeys/{uuid.uuid4()}", headers=_headers(token))
    assert gone.status_code == 403 and gone.get_json()["error"] == "reauthentication_required"
    # Reading the list needs no fresh sign-in.
    assert client.get("/auth/passkeys", headers=_headers(token)).get_json() == {"passkeys": []}


def test_options_taken_fresh_do_not_register_once_the_session_aged(app, client):
    token, session_id = _signed_in(app, client)
    _age(app, session_id, 9)
    options = client.post("/auth/passkeys/register/options", json={}, headers=_headers(token))
    assert options.status_code == 200, options.get_json()
    credential = SoftAuthenticator(_relying_party(app).origin).create(options.get_json())
    _age(app, session_id, 11)
    refused = client.post(
        "/auth/passkeys/register", json={"credential": credential, "name": "late"}, headers=_headers(token)
    )
    assert refused.status_code == 403 and refused.get_json()["error"] == "reauthentication_required"
    assert client.get("/auth/passkeys", headers=_headers(token)).get_json() == {"passkeys": []}
