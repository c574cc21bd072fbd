"""Password reset: the token is checked before bcrypt, and the user's row is locked before the token's."""

import secrets
import threading
import time

import psycopg
from prometheus_client import REGISTRY

from auth_app.mail import store as mail_store
from auth_app.mail.link_tokens import PASSWORD_RESET, new_email_token
from authcore import metrics


def _signup(client) -> dict:
    name = "r-" + secrets.token_hex(5)
    fields = {"username": name, "email": f"{name}@example.com", "password": "pw-" + secrets.token_hex(8)}
    response = client.post("/auth/signup", json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _reset_token(app, user: dict) -> str:
    token, token_hash = new_email_token()
    with app.extensions["pool"].connection() as conn, conn.transaction():
        mail_store.replace_token(conn, token_hash, user["id"], PASSWORD_RESET, user["email"], 600)
    return token


def _hashes_made() -> float:
    return REGISTRY.get_sample_value("authstack_password_hash_seconds_count", {"operation": "hash"}) or 0.0


def test_an_unknown_reset_token_costs_no_bcrypt(client):
    assert metrics.ENABLED  # the count below is what the test reads
    unknown, _ = new_email_token()
    before = _hashes_made()
    response = client.post("/auth/password/reset", json={"token": unknown, "new_password": "another-pass-1"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_reset_token"
    assert _hashes_made() == before


def test_a_known_reset_token_is_hashed_once(app, client):
    token = _reset_token(app, _signup(client))
    before = _hashes_made()
    response = client.post("/auth/password/reset", json={"token": token, "new_password": "another-pass-1"})
    assert response.status_code == 204
    assert _hashes_made() == before + 1


def _waiting_for_a_lock(conn, timeout: float = 30) -> bool:
    """True once another backend waits for a lock (the reset, behind our user row lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


def test_a_reset_racing_a_password_change_takes_the_same_lock_order(app, client, database_url):
    # A password change holds the user's row, then deletes the reset tokens.
    # The reset used to delete its token row first, then wait for the user's
    # row: each waited for the other (a deadlock, answered 503).
    user = _signup(client)
    token = _reset_token(app, user)
    answers = []
    with psycopg.connect(database_url) as change:
        change.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user["id"],))
        reset = threading.Thread(
            target=lambda: answers.append(
                client.post("/auth/password/reset", json={"token": token, "new_password": "another-pass-1"})
            )
        )
        reset.start()
        try:
            assert _waiting_for_a_lock(change)
            change.execute(
                "DELETE FROM email_tokens WHERE user_id = %s AND purpose = %s", (user["id"], PASSWORD_RESET)
            )
            change.commit()
        finally:
            reset.join(timeout=30)
    (response,) = answers
    # The change won and killed the link: the reset is refused, not a 503.
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_reset_token"
