"""The SQL of the provider's grant state: codes, browser sessions, consents, client sessions.

Raw, parameterised, inside the caller's transaction. Codes and browser
session tokens are looked up by their SHA-256.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection
from psycopg.rows import class_row

CODE_LIFETIME_SECONDS = 60


@dataclass(frozen=True)
class CodeRow:
    """One authorization code as stored."""

    code_hash: bytes
    client_id: str
    user_id: uuid.UUID
    browser_session_id: uuid.UUID
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime
    amr: list[str]
    issued_session_id: uuid.UUID | None


@dataclass(frozen=True)
class BrowserSession:
    """The session behind a provider cookie: who, since when, how."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    auth_time: datetime
    amr: list[str]


def insert_code(conn: Connection, code_hash: bytes, row: dict[str, object]) -> None:
    """Store a new code, valid CODE_LIFETIME_SECONDS."""
    conn.execute(
        "INSERT INTO oauth2_codes (code_hash, client_id, user_id, browser_session_id, redirect_uri, scope,"
        " nonce, code_challenge, code_challenge_method, auth_time, amr, expires_at)"
        " VALUES (%(code_hash)s, %(client_id)s, %(user_id)s, %(browser_session_id)s, %(redirect_uri)s,"
        " %(scope)s, %(nonce)s, %(code_challenge)s, %(code_challenge_method)s, %(auth_time)s, %(amr)s,"
        " now() + make_interval(secs => %(lifetime)s))",
        {**row, "code_hash": code_hash, "lifetime": CODE_LIFETIME_SECONDS},
    )


def claim_code(conn: Connection, code_hash: bytes) -> CodeRow | None:
    """Mark an unused, unexpired code used and return it; None if it is none (a conditional UPDATE)."""
    with conn.cursor(row_factory=class_row(CodeRow)) as cur:
        cur.execute(
            "UPDATE oauth2_codes SET used_at = now()"
            " WHERE code_hash = %s AND used_at IS NULL AND expires_at > now()"
            " RETURNING code_hash, client_id, user_id, browser_session_id, redirect_uri, scope, nonce,"
            " code_challenge, code_challenge_method, auth_time, amr, issued_session_id",
            (code_hash,),
        )
        return cur.fetchone()


def mark_code_reused(conn: Connection, code_hash: bytes) -> CodeRow | None:
    """A used code came again: lock its row, note the reuse, return it (None: no used code has this hash)."""
    with conn.cursor(row_factory=class_row(CodeRow)) as cur:
        cur.execute(
            "UPDATE oauth2_codes SET reused_at = coalesce(reused_at, now())"
            " WHERE code_hash = %s AND used_at IS NOT NULL"
            " RETURNING code_hash, client_id, user_id, browser_session_id, redirect_uri, scope, nonce,"
            " code_challenge, code_challenge_method, auth_time, amr, issued_session_id",
            (code_hash,),
        )
        return cur.fetchone()


def link_issued_session(conn: Connection, code_hash: bytes, session_id: uuid.UUID, scope: str) -> bool:
    """Record the session a code's first use opened; False if a second use came first (then open none)."""
    conn.execute("UPDATE sessions SET client_scope = %s WHERE id = %s", (scope, session_id))
    cur = conn.execute(
        "UPDATE oauth2_codes SET issued_session_id = %s WHERE code_hash = %s AND reused_at IS NULL",
        (session_id, code_hash),
    )
    return cur.rowcount == 1


def insert_browser_session(conn: Connection, token_hash: bytes, session_id: uuid.UUID, lifetime: int) -> None:
    """Bind a new provider cookie to one of the user's sessions."""
    conn.execute(
        "INSERT INTO oauth2_browser_sessions (token_hash, session_id, expires_at)"
        " VALUES (%s, %s, now() + make_interval(secs => %s))",
        (token_hash, session_id, lifetime),
    )


def find_browser_session(conn: Connection, token_hash: bytes) -> BrowserSession | None:
    """The live session behind a cookie: the cookie unexpired, the session active, the user enabled."""
    with conn.cursor(row_factory=class_row(BrowserSession)) as cur:
        cur.execute(
            "SELECT s.id AS session_id, s.user_id, s.created_at AS auth_time, s.amr"
            " FROM oauth2_browser_sessions b JOIN sessions s ON s.id = b.session_id"
            " JOIN users u ON u.id = s.user_id"
            " WHERE b.token_hash = %s AND b.expires_at > now() AND s.ended_at IS NULL"
            " AND s.expires_at > now() AND u.disabled_at IS NULL",
            (token_hash,),
        )
        return cur.fetchone()


def consented_scopes(conn: Connection, user_id: uuid.UUID, client_id: str) -> set[str]:
    """The scopes the user allowed the client (empty: none asked yet)."""
    row = conn.execute(
        "SELECT scopes FROM oauth2_consents WHERE user_id = %s AND client_id = %s", (user_id, client_id)
    ).fetchone()
    return set(row[0]) if row else set()


def save_consent(conn: Connection, user_id: uuid.UUID, client_id: str, scopes: list[str]) -> None:
    """Remember what the user allowed (adding to what they allowed before)."""
    conn.execute(
        "INSERT INTO oauth2_consents (user_id, client_id, scopes) VALUES (%s, %s, %s)"
        " ON CONFLICT (user_id, client_id) DO UPDATE SET granted_at = now(),"
        " scopes = ARRAY(SELECT DISTINCT unnest(oauth2_consents.scopes || EXCLUDED.scopes))",
        (user_id, client_id, sorted(set(scopes))),
    )


def session_client(conn: Connection, refresh_hash: bytes) -> str | None:
    """The client whose session a refresh token belongs to (None: not a client's, or unknown)."""
    row = conn.execute(
        "SELECT s.client_id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id"
        " WHERE r.token_hash = %s",
        (refresh_hash,),
    ).fetchone()
    return row[0] if row else None


def find_session(conn: Connection, session_id: uuid.UUID) -> BrowserSession | None:
    """An active session of an enabled user, as a browser session."""
    with conn.cursor(row_factory=class_row(BrowserSession)) as cur:
        cur.execute(
            "SELECT s.id AS session_id, s.user_id, s.created_at AS auth_time, s.amr"
            " FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.id = %s AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL",
            (session_id,),
        )
        return cur.fetchone()


@dataclass(frozen=True)
class ClientSession:
    """A client's session: whose, which client's, what scope, whether it is active."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    client_id: str | None
    client_scope: str | None
    active: bool


def client_session(conn: Connection, session_id: uuid.UUID) -> ClientSession | None:
    """The session ``session_id`` with its client and scope."""
    with conn.cursor(row_factory=class_row(ClientSession)) as cur:
        cur.execute(
            "SELECT s.id AS session_id, s.user_id, s.client_id, s.client_scope,"
            " (s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL) AS active"
            " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = %s",
            (session_id,),
        )
        return cur.fetchone()


def session_of_refresh_token(conn: Connection, refresh_hash: bytes) -> ClientSession | None:
    """The session an unused, unexpired refresh token belongs to."""
    row = conn.execute(
        "SELECT session_id FROM refresh_tokens"
        " WHERE token_hash = %s AND used_at IS NULL AND expires_at > now()",
        (refresh_hash,),
    ).fetchone()
    return client_session(conn, row[0]) if row else None


def end_browser_sessions_of(conn: Connection, session_id: uuid.UUID) -> None:
    """Forget the provider cookies bound to a session."""
    conn.execute("DELETE FROM oauth2_browser_sessions WHERE session_id = %s", (session_id,))


# A used code is kept a day past its expiry, so a late second use still ends what the first opened.
KEEP_EXPIRED_CODES_SECONDS = 24 * 3600


def prune(conn: Connection) -> int:
    """Delete codes a day past expiry and provider cookies expired or of ended sessions; rows deleted."""
    codes = conn.execute(
        "DELETE FROM oauth2_codes WHERE expires_at < now() - make_interval(secs => %s)",
        (KEEP_EXPIRED_CODES_SECONDS,),
    ).rowcount
    cookies = conn.execute(
        "DELETE FROM oauth2_browser_sessions b WHERE b.expires_at < now()"
        " OR EXISTS (SELECT 1 FROM sessions s WHERE s.id = b.session_id AND s.ended_at IS NOT NULL)"
    ).rowcount
    return codes + cookies
