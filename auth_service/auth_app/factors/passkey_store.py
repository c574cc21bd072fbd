"""The SQL of passkeys: credentials, user handles and single-use WebAuthn challenges.

Raw, parameterised statements only. Functions take a connection so that
callers choose the transaction; the ones that add, remove or use a passkey
are called with the user's row locked (``auth_app.revoking.lock_user`` or a
login's ``FOR SHARE``), so they are ordered against every issuing and
revoking path.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection

from auth_app.rows import first_int

USER_HANDLE_BYTES = 64
REGISTER, LOGIN, MFA = "register", "login", "mfa"

# --- user handles -----------------------------------------------------------


def user_handle(conn: Connection, user_id: uuid.UUID) -> bytes:
    """The user's WebAuthn user handle, made (random) on first use."""
    conn.execute(
        "INSERT INTO passkey_user_handles (user_id, handle) VALUES (%s, %s) ON CONFLICT (user_id) DO NOTHING",
        (user_id, secrets.token_bytes(USER_HANDLE_BYTES)),
    )
    row = conn.execute("SELECT handle FROM passkey_user_handles WHERE user_id = %s", (user_id,)).fetchone()
    assert row is not None  # inserted just above or before
    return bytes(row[0])


# --- credentials ------------------------------------------------------------


@dataclass(frozen=True)
class Passkey:
    """A stored credential."""

    id: uuid.UUID
    user_id: uuid.UUID
    credential_id: bytes
    public_key: bytes
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _passkey(row: tuple[Any, ...]) -> Passkey:
    return Passkey(row[0], row[1], bytes(row[2]), bytes(row[3]), row[4], row[5], row[6], row[7])


def insert_passkey(
    conn: Connection,
    user_id: uuid.UUID,
    credential_id: bytes,
    public_key: bytes,
    sign_count: int,
    name: str,
) -> Passkey | None:
    """Store a new credential; None if that credential id is registered already (to anyone)."""
    row = conn.execute(
        "INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, name)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (credential_id) DO NOTHING"
        " RETURNING id, user_id, credential_id, public_key, sign_count, name, created_at, last_used_at",
        (user_id, credential_id, public_key, sign_count, name),
    ).fetchone()
    return _passkey(row) if row else None


def list_passkeys(conn: Connection, user_id: uuid.UUID) -> list[Passkey]:
    """The user's credentials, oldest first."""
    rows = conn.execute(
        "SELECT id, user_id, credential_id, public_key, sign_count, name, created_at, last_used_at"
        " FROM passkeys WHERE user_id = %s ORDER BY created_at, id",
        (user_id,),
    ).fetchall()
    return [_passkey(row) for row in rows]


def count_passkeys(conn: Connection, user_id: uuid.UUID) -> int:
    """How many credentials the user has."""
    return first_int(conn.execute("SELECT count(*) FROM passkeys WHERE user_id = %s", (user_id,)).fetchone())


def find_by_credential_id(conn: Connection, credential_id: bytes) -> Passkey | None:
    """The credential a sign-in presents, whoever owns it."""
    row = conn.execute(
        "SELECT id, user_id, credential_id, public_key, sign_count, name, created_at, last_used_at"
        " FROM passkeys WHERE credential_id = %s",
        (credential_id,),
    ).fetchone()
    return _passkey(row) if row else None


def use_passkey(conn: Connection, passkey_id: uuid.UUID, user_id: uuid.UUID, old: int, new: int) -> bool:
    """Record a verified use: the counter moves from ``old`` to ``new``; False if the row changed.

    A compare-and-set: a credential removed meanwhile, or used by a racing
    sign-in that moved the counter first, is not used again.
    """
    cur = conn.execute(
        "UPDATE passkeys SET sign_count = %s, last_used_at = now()"
        " WHERE id = %s AND user_id = %s AND sign_count = %s",
        (new, passkey_id, user_id, old),
    )
    return cur.rowcount == 1


def delete_passkey(conn: Connection, passkey_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """Remove one credential of the user; its name, or None if the user has no such credential."""
    row = conn.execute(
        "DELETE FROM passkeys WHERE id = %s AND user_id = %s RETURNING name", (passkey_id, user_id)
    ).fetchone()
    return str(row[0]) if row else None


def delete_passkeys(conn: Connection, user_id: uuid.UUID) -> int:
    """Remove every credential of the user (an admin's reset); how many."""
    return conn.execute("DELETE FROM passkeys WHERE user_id = %s", (user_id,)).rowcount


# --- challenges -------------------------------------------------------------


def _challenge_hash(challenge: bytes) -> bytes:
    return hashlib.sha256(challenge).digest()


def insert_challenge(
    conn: Connection,
    challenge: bytes,
    purpose: str,
    user_id: uuid.UUID | None,
    ttl_seconds: int,
    login_token_hash: bytes | None = None,
) -> None:
    """Remember a challenge handed out for ``purpose`` for ``ttl_seconds``."""
    conn.execute(
        "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, login_token_hash, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
        (_challenge_hash(challenge), purpose, user_id, login_token_hash, ttl_seconds),
    )


@dataclass(frozen=True)
class Challenge:
    """A live challenge that was just taken."""

    user_id: uuid.UUID | None
    login_token_hash: bytes | None


def take_challenge(conn: Connection, challenge: bytes, purpose: str) -> Challenge | None:
    """Take a live challenge of ``purpose``: found exactly once, however many race (one DELETE)."""
    row = conn.execute(
        "DELETE FROM webauthn_challenges WHERE challenge_hash = %s AND purpose = %s AND expires_at > now()"
        " RETURNING user_id, login_token_hash",
        (_challenge_hash(challenge), purpose),
    ).fetchone()
    if row is None:
        return None
    return Challenge(row[0], bytes(row[1]) if row[1] is not None else None)


def prune_challenges(conn: Connection) -> int:
    """Delete expired challenges; how many (housekeeping)."""
    return conn.execute("DELETE FROM webauthn_challenges WHERE expires_at < now()").rowcount


# --- the recent-login rule ----------------------------------------------------


def session_is_recent(
    conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID, max_age_seconds: int
) -> bool:
    """True if the session is the user's, active, and signed in at most ``max_age_seconds`` ago.

    A refresh keeps the session, so ``created_at`` is the sign-in's time.
    """
    row = conn.execute(
        "SELECT 1 FROM sessions WHERE id = %s AND user_id = %s AND ended_at IS NULL AND expires_at > now()"
        " AND created_at > now() - make_interval(secs => %s)",
        (session_id, user_id, max_age_seconds),
    ).fetchone()
    return row is not None


def user_handle_of(conn: Connection, user_id: uuid.UUID) -> bytes | None:
    """The user's handle if one was made."""
    row = conn.execute("SELECT handle FROM passkey_user_handles WHERE user_id = %s", (user_id,)).fetchone()
    return bytes(row[0]) if row else None
