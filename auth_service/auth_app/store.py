"""All of auth_service's SQL: users, sessions, refresh tokens.

Raw, parameterised statements only; values are never formatted into SQL.
Functions take a connection so that callers choose the transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection
from psycopg.rows import class_row


@dataclass(frozen=True)
class User:
    """A row of ``users`` as the service needs it."""

    id: uuid.UUID
    username: str
    email: str
    password_hash: str
    roles: list[str]
    disabled_at: datetime | None
    created_at: datetime


_SELECT_USER = "SELECT id, username, email, password_hash, roles, disabled_at, created_at FROM users "


def insert_user(conn: Connection, username: str, email: str, password_hash: str) -> User:
    """Insert a user; raises ``psycopg.errors.UniqueViolation`` on a taken name or email."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            "INSERT INTO users (username, email, password_hash) VALUES (%s, %s, %s)"
            " RETURNING id, username, email, password_hash, roles, disabled_at, created_at",
            (username, email, password_hash),
        )
        return cur.fetchone()


def find_user_by_login(conn: Connection, username: str | None, email: str | None) -> User | None:
    """The user with this normalised username, or this email (case-insensitive)."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        if email is not None:
            cur.execute(_SELECT_USER + "WHERE lower(email) = lower(%s)", (email,))
        else:
            cur.execute(_SELECT_USER + "WHERE username = %s", (username,))
        return cur.fetchone()


def insert_session(
    conn: Connection,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    refresh_hash: bytes,
    refresh_ttl: int,
    user_agent: str,
    ip: str,
) -> None:
    """Create a session with its first refresh token (call inside a transaction)."""
    conn.execute(
        "INSERT INTO sessions (id, user_id, expires_at, user_agent, ip)"
        " VALUES (%s, %s, now() + make_interval(secs => %s), %s, %s)",
        (session_id, user_id, refresh_ttl, user_agent, ip),
    )
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
        " VALUES (%s, %s, now() + make_interval(secs => %s))",
        (refresh_hash, session_id, refresh_ttl),
    )


def end_session(conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID, reason: str) -> bool:
    """Mark one active session of ``user_id`` ended; False if there was none."""
    cur = conn.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = %s"
        " WHERE id = %s AND user_id = %s AND ended_at IS NULL",
        (reason, session_id, user_id),
    )
    return cur.rowcount == 1


def ping(conn: Connection) -> None:
    """One round trip to prove the database answers."""
    conn.execute("SELECT 1")
