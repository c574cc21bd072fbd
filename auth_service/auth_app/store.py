"""All of auth_service's SQL: users, sessions, refresh tokens.

Raw, parameterised statements only; values are never formatted into SQL.
Functions take a connection so that callers choose the transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from psycopg import Connection
from psycopg.rows import class_row

from auth_app.rows import first_int
from auth_app.validation import normalise_email


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
    email_verified: bool = False


_SELECT_USER = (
    "SELECT id, username, email, password_hash, roles, disabled_at, created_at,"
    " email_verified_at IS NOT NULL AS email_verified FROM users "
)


def insert_user(
    conn: Connection, username: str, email: str, password_hash: str, roles: tuple[str, ...] = ()
) -> User:
    """Insert a user; raises ``psycopg.errors.UniqueViolation`` on a taken name or email.

    Only the first-admin command passes ``roles``; signup never does.
    """
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            "INSERT INTO users (username, email, email_key, password_hash, roles)"
            " VALUES (%s, %s, %s, %s, %s)"
            " RETURNING id, username, email, password_hash, roles, disabled_at, created_at",
            (username, email, normalise_email(email), password_hash, list(roles)),
        )
        # An INSERT ... RETURNING without ON CONFLICT gives its row or raises.
        return cast(User, cur.fetchone())


def find_user_by_login(conn: Connection, username: str | None, email: str | None) -> User | None:
    """The user with this normalised username, or this email (compared by ``normalise_email``)."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        if email is not None:
            cur.execute(_SELECT_USER + "WHERE email_key = %s", (normalise_email(email),))
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
    amr: tuple[str, ...] = ("pwd",),
) -> None:
    """Create a session with its first refresh token (call inside a transaction).

    ``amr`` says how the user signed in (RFC 8176); every token of the session carries it.
    """
    conn.execute(
        "INSERT INTO sessions (id, user_id, expires_at, user_agent, ip, amr)"
        " VALUES (%s, %s, now() + make_interval(secs => %s), %s, %s, %s)",
        (session_id, user_id, refresh_ttl, user_agent, ip, sorted(set(amr))),
    )
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
        " VALUES (%s, %s, now() + make_interval(secs => %s))",
        (refresh_hash, session_id, refresh_ttl),
    )


def set_session_client(conn: Connection, session_id: uuid.UUID, client_id: str) -> None:
    """Mark a session being opened as a single sign-on client's."""
    conn.execute("UPDATE sessions SET client_id = %s WHERE id = %s", (client_id, session_id))


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


def find_user_by_id(conn: Connection, user_id: uuid.UUID) -> User | None:
    """The user with this id."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(_SELECT_USER + "WHERE id = %s", (user_id,))
        return cur.fetchone()


# --- refresh tokens -------------------------------------------------------


def use_refresh_token(conn: Connection, token_hash: bytes) -> uuid.UUID | None:
    """Mark an unused, unexpired refresh token used; its session id, or None.

    The condition and the update are one statement, so of two concurrent
    uses exactly one gets the row.
    """
    row = conn.execute(
        "UPDATE refresh_tokens SET used_at = now()"
        " WHERE token_hash = %s AND used_at IS NULL AND expires_at > now()"
        " RETURNING session_id",
        (token_hash,),
    ).fetchone()
    return row[0] if row else None


def find_used_refresh_token(conn: Connection, token_hash: bytes) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(session id, user id) of a refresh token that was already used (a reuse), or None."""
    row = conn.execute(
        "SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
        " WHERE t.token_hash = %s AND t.used_at IS NOT NULL",
        (token_hash,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def lock_session_user_for_issuing(conn: Connection, session_id: uuid.UUID) -> User | None:
    """The user owning a session, its row locked FOR SHARE (see ``lock_user_for_issuing``)."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            "SELECT u.id, u.username, u.email, u.password_hash, u.roles, u.disabled_at, u.created_at,"
            " u.email_verified_at IS NOT NULL AS email_verified"
            " FROM users u JOIN sessions s ON s.user_id = u.id WHERE s.id = %s FOR SHARE OF u",
            (session_id,),
        )
        return cur.fetchone()


def lock_active_session(conn: Connection, session_id: uuid.UUID, max_lifetime: int) -> bool:
    """Lock a session row for its rotation; False if it is ended, expired, or older than ``max_lifetime``.

    Called after its user's row is locked, so a revoker that ended the
    session first is seen (each statement reads what is committed when it starts).
    ``max_lifetime`` (SESSION_MAX_LIFETIME, seconds) bounds a session however
    often it is refreshed.
    """
    row = conn.execute(
        "SELECT 1 FROM sessions WHERE id = %s AND ended_at IS NULL AND expires_at > now()"
        " AND created_at > now() - make_interval(secs => %s) FOR UPDATE",
        (session_id, max_lifetime),
    ).fetchone()
    return row is not None


def session_amr(conn: Connection, session_id: uuid.UUID) -> tuple[str, ...]:
    """How the session was signed in (sorted RFC 8176 values)."""
    row = conn.execute("SELECT amr FROM sessions WHERE id = %s", (session_id,)).fetchone()
    return tuple(sorted(row[0])) if row else ()


def rotate_refresh_token(
    conn: Connection,
    session_id: uuid.UUID,
    token_hash: bytes,
    refresh_ttl: int,
    user_agent: str,
    ip: str,
    max_lifetime: int,
) -> int:
    """Give a session its next refresh token and slide its expiry; the seconds the token lives.

    The expiry slides by ``refresh_ttl`` but never past the session's
    creation plus ``max_lifetime``.
    """
    expires_in = first_int(
        conn.execute(
            "UPDATE sessions SET last_used_at = now(),"
            " expires_at = least(now() + make_interval(secs => %s), created_at + make_interval(secs => %s)),"
            " user_agent = %s, ip = %s WHERE id = %s"
            " RETURNING greatest(floor(extract(epoch FROM expires_at - now())), 1)::int",
            (refresh_ttl, max_lifetime, user_agent, ip, session_id),
        ).fetchone()
    )
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
        " SELECT %s, id, expires_at FROM sessions WHERE id = %s",
        (token_hash, session_id),
    )
    return expires_in


def delete_stale_refresh_tokens(conn: Connection, session_id: uuid.UUID) -> None:
    """Forget a session's expired refresh tokens (reuse of those can't matter any more)."""
    conn.execute("DELETE FROM refresh_tokens WHERE session_id = %s AND expires_at < now()", (session_id,))


# --- sessions -------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """An active session as the sessions list shows it."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    ip: str


def list_active_sessions(conn: Connection, user_id: uuid.UUID) -> list[SessionRow]:
    """The user's sessions that are neither ended nor expired, newest first."""
    with conn.cursor(row_factory=class_row(SessionRow)) as cur:
        cur.execute(
            "SELECT id, created_at, last_used_at, user_agent, ip FROM sessions"
            " WHERE user_id = %s AND ended_at IS NULL AND expires_at > now()"
            " ORDER BY created_at DESC",
            (user_id,),
        )
        return cur.fetchall()


def end_sessions_of_user(
    conn: Connection, user_id: uuid.UUID, reason: str, keep: uuid.UUID | None = None
) -> list[str]:
    """End every active session of a user (but ``keep``); the ids ended."""
    rows = conn.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = %s"
        " WHERE user_id = %s AND ended_at IS NULL AND id IS DISTINCT FROM %s RETURNING id",
        (reason, user_id, keep),
    ).fetchall()
    return [str(row[0]) for row in rows]


def end_session_by_id(conn: Connection, session_id: uuid.UUID, reason: str) -> None:
    """End a session whatever its state (refresh-token reuse)."""
    conn.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = %s WHERE id = %s AND ended_at IS NULL",
        (reason, session_id),
    )


# --- users: password, roles, disabling, cutoffs ---------------------------


def set_password_hash(conn: Connection, user_id: uuid.UUID, password_hash: str) -> None:
    """Replace a user's password hash."""
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))


def replace_password_hash(conn: Connection, user_id: uuid.UUID, old: str, new: str) -> bool:
    """Swap a hash of the same password for one at another cost, unless it changed meanwhile."""
    cur = conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s AND password_hash = %s", (new, user_id, old)
    )
    return cur.rowcount == 1


def lock_user_for_issuing(conn: Connection, user_id: uuid.UUID) -> User | None:
    """The user, its row locked FOR SHARE until the transaction ends.

    Issuers (login, refresh) hold this while they read roles and state and
    take the token's issue time; revokers lock the row FOR UPDATE, so each
    waits for the other and the row orders them (docs/ARCHITECTURE.md).
    """
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(_SELECT_USER + "WHERE id = %s FOR SHARE", (user_id,))
        return cur.fetchone()


def lock_user_for_revoking(conn: Connection, user_id: uuid.UUID) -> User | None:
    """The user, its row locked FOR UPDATE: no token of theirs is issued until commit."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(_SELECT_USER + "WHERE id = %s FOR UPDATE", (user_id,))
        return cur.fetchone()


def token_issue_time_ms(conn: Connection, user_id: uuid.UUID) -> int:
    """The issue time (epoch milliseconds) for a token of a user whose row this transaction locked.

    Postgres's clock, rounded down, so every replica of the service reads
    one clock; and never before the user's cutoff, so a token issued after
    a revoking event is not caught by that event's rounding.
    """
    row = conn.execute(
        "SELECT greatest(floor(extract(epoch FROM clock_timestamp()) * 1000),"
        " coalesce(round(extract(epoch FROM tokens_valid_after) * 1000), 0))::bigint"
        " FROM users WHERE id = %s",
        (user_id,),
    ).fetchone()
    return first_int(row)


def raise_tokens_valid_after(conn: Connection, user_id: uuid.UUID) -> int:
    """Move the user's cutoff to now (rounded up to the millisecond); the new cutoff in ms.

    Call with the row locked for update: every token issued before is then
    strictly before it, including one issued within the same millisecond as
    the previous cutoff (the cutoff moves at least 1 ms forward).
    """
    row = conn.execute(
        "UPDATE users SET tokens_valid_after = to_timestamp(greatest("
        " ceil(extract(epoch FROM clock_timestamp()) * 1000),"
        " coalesce(round(extract(epoch FROM tokens_valid_after) * 1000) + 1, 0)) / 1000)"
        " WHERE id = %s RETURNING round(extract(epoch FROM tokens_valid_after) * 1000)::bigint",
        (user_id,),
    ).fetchone()
    return first_int(row)


def lock_user_by_name(conn: Connection, username: str) -> User | None:
    """The user with this normalised username, its row locked for an update."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(_SELECT_USER + "WHERE username = %s FOR UPDATE", (username,))
        return cur.fetchone()


def set_roles(conn: Connection, user_id: uuid.UUID, roles: list[str]) -> None:
    """Replace a user's roles (kept sorted, without duplicates)."""
    conn.execute("UPDATE users SET roles = %s WHERE id = %s", (sorted(set(roles)), user_id))


def disable_user(conn: Connection, user_id: uuid.UUID) -> None:
    """Mark a user disabled (login and refresh refuse them)."""
    conn.execute("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = %s", (user_id,))


# --- rebuilding the revocation list -----------------------------------------


def recently_ended_sessions(conn: Connection, window_seconds: int) -> list[tuple[str, float]]:
    """(session id, ended_at epoch) of sessions ended within the window."""
    rows = conn.execute(
        "SELECT id, extract(epoch FROM ended_at)::float8 FROM sessions"
        " WHERE ended_at > now() - make_interval(secs => %s)",
        (window_seconds,),
    ).fetchall()
    return [(str(session_id), ended) for session_id, ended in rows]


def recent_user_cutoffs(conn: Connection, window_seconds: int) -> list[tuple[str, float]]:
    """(user id, cutoff epoch) of per-user cutoffs set within the window."""
    rows = conn.execute(
        "SELECT id, extract(epoch FROM tokens_valid_after)::float8 FROM users"
        " WHERE tokens_valid_after > now() - make_interval(secs => %s)",
        (window_seconds,),
    ).fetchall()
    return [(str(user_id), cutoff) for user_id, cutoff in rows]


# --- housekeeping -----------------------------------------------------------


def prune(conn: Connection, keep_ended_seconds: int, max_lifetime: int) -> tuple[int, int]:
    """Delete dead refresh tokens and long-finished sessions; (tokens, sessions) deleted.

    An expired refresh token is refused whether it exists or not. A used
    (rotated) one is kept only while its session lives, to recognise its
    reuse: once the session ended, expired or passed ``max_lifetime``
    nothing can be refreshed in it and a reuse has nothing left to end.
    A session is kept ``keep_ended_seconds`` after it ended or expired: far
    longer than the revocation rebuild looks back (one access-token lifetime).
    """
    tokens = conn.execute("DELETE FROM refresh_tokens WHERE expires_at < now()").rowcount
    tokens += conn.execute(
        "DELETE FROM refresh_tokens t USING sessions s WHERE s.id = t.session_id AND t.used_at IS NOT NULL"
        " AND (s.ended_at IS NOT NULL OR s.expires_at < now()"
        "      OR s.created_at < now() - make_interval(secs => %s))",
        (max_lifetime,),
    ).rowcount
    sessions = conn.execute(
        "DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < now() - make_interval(secs => %s)",
        (keep_ended_seconds,),
    ).rowcount
    return tokens, sessions
