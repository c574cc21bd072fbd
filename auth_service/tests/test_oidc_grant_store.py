"""Single sign-on's grant state: a code is claimed once, a reuse is marked, old rows are pruned."""

import secrets
import uuid
from datetime import UTC, datetime

from auth_app import store
from auth_app.oidc import client_store, grant_store


def _code(conn) -> tuple[bytes, uuid.UUID]:
    user = store.insert_user(conn, "o-" + secrets.token_hex(5), f"{secrets.token_hex(5)}@example.com", "x")
    session_id = uuid.uuid4()
    store.insert_session(conn, session_id, user.id, secrets.token_bytes(32), 3600, "ua", "127.0.0.1")
    client_id = "c-" + secrets.token_hex(6)
    client_store.insert_client(
        conn, client_id, "app", "public", None, True, ["https://a.example/cb"], [], "RS256"
    )
    code_hash = secrets.token_bytes(32)
    grant_store.insert_code(
        conn,
        code_hash,
        {
            "client_id": client_id, "user_id": user.id, "browser_session_id": session_id,
            "redirect_uri": "https://a.example/cb", "scope": "openid", "nonce": None,
            "code_challenge": "c" * 43, "code_challenge_method": "S256",
            "auth_time": datetime.now(UTC), "amr": ["pwd"],
        },
    )  # fmt: skip
    return code_hash, session_id


def test_a_code_is_claimed_once_and_a_reuse_keeps_the_first_use_from_opening(conn):
    code_hash, session_id = _code(conn)
    assert grant_store.claim_code(conn, code_hash) is not None
    assert grant_store.claim_code(conn, code_hash) is None
    reused = grant_store.mark_code_reused(conn, code_hash)
    assert reused is not None and reused.issued_session_id is None
    assert grant_store.link_issued_session(conn, code_hash, session_id, "openid") is False
    assert grant_store.mark_code_reused(conn, secrets.token_bytes(32)) is None  # never issued


def test_a_first_use_links_its_session_and_the_reuse_then_finds_it(conn):
    code_hash, session_id = _code(conn)
    grant_store.claim_code(conn, code_hash)
    assert grant_store.link_issued_session(conn, code_hash, session_id, "openid email") is True
    reused = grant_store.mark_code_reused(conn, code_hash)
    assert reused is not None and reused.issued_session_id == session_id


def test_pruning_removes_codes_a_day_past_expiry_and_cookies_of_ended_sessions(conn):
    code_hash, session_id = _code(conn)
    grant_store.insert_browser_session(conn, b"t" * 32, session_id, 3600)
    conn.execute(
        "UPDATE oauth2_codes SET created_at = created_at - interval '2 days',"
        " expires_at = expires_at - interval '2 days' WHERE code_hash = %s",
        (code_hash,),
    )
    conn.execute("UPDATE sessions SET ended_at = now() WHERE id = %s", (session_id,))
    assert grant_store.prune(conn) >= 2
    assert conn.execute(
        "SELECT count(*) FROM oauth2_codes WHERE code_hash = %s", (code_hash,)
    ).fetchone() == (0,)
    assert grant_store.find_browser_session(conn, b"t" * 32) is None
