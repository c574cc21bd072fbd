"""The SQL of personal access tokens (table ``personal_access_tokens``, migration 007).

Raw, parameterised statements; functions take a connection so that callers
choose the transaction (every change runs under the user's row lock, see
``auth_app.access_tokens``).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from psycopg import Connection
from psycopg.rows import class_row

from auth_app.rows import first_int


@dataclass(frozen=True)
class TokenRow:
    """A token as its owner sees it (never its hash)."""

    id: uuid.UUID
    name: str
    roles: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class EntryRow:
    """What a token's Redis entry is built from: the token and its owner, joined."""

    token_hash: bytes
    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    given_roles: list[str]
    user_roles: list[str]
    email_verified: bool
    created_at: float
    expires_at: float


_SELECT_ENTRY = (
    "SELECT t.token_hash, t.id, t.user_id, u.username, t.roles AS given_roles, u.roles AS user_roles,"
    " u.email_verified_at IS NOT NULL AS email_verified,"
    " extract(epoch FROM t.created_at)::float8 AS created_at,"
    " extract(epoch FROM t.expires_at)::float8 AS expires_at"
    " FROM personal_access_tokens t JOIN users u ON u.id = t.user_id "
)


def count_live(conn: Connection, user_id: uuid.UUID) -> int:
    """How many unexpired tokens the user has."""
    row = conn.execute(
        "SELECT count(*) FROM personal_access_tokens WHERE user_id = %s AND expires_at > now()", (user_id,)
    ).fetchone()
    return first_int(row)


def insert(
    conn: Connection, user_id: uuid.UUID, name: str, token_hash: bytes, roles: list[str], days: int
) -> TokenRow:
    """Store a new token (its hash only), expiring ``days`` from now."""
    with conn.cursor(row_factory=class_row(TokenRow)) as cur:
        cur.execute(
            "INSERT INTO personal_access_tokens (user_id, name, token_hash, roles, expires_at)"
            " VALUES (%s, %s, %s, %s, now() + make_interval(days => %s))"
            " RETURNING id, name, roles, created_at, expires_at, last_used_at",
            (user_id, name, token_hash, sorted(set(roles)), days),
        )
        # An INSERT ... RETURNING without ON CONFLICT gives its row or raises.
        return cast(TokenRow, cur.fetchone())


def list_live(conn: Connection, user_id: uuid.UUID) -> list[TokenRow]:
    """The user's unexpired tokens, newest first."""
    with conn.cursor(row_factory=class_row(TokenRow)) as cur:
        cur.execute(
            "SELECT id, name, roles, created_at, expires_at, last_used_at FROM personal_access_tokens"
            " WHERE user_id = %s AND expires_at > now() ORDER BY created_at DESC, id",
            (user_id,),
        )
        return cur.fetchall()


def delete_one(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID) -> bytes | None:
    """Delete one of the user's tokens; its hash, or None if it has no such token."""
    row = conn.execute(
        "DELETE FROM personal_access_tokens WHERE id = %s AND user_id = %s RETURNING token_hash",
        (token_id, user_id),
    ).fetchone()
    return bytes(row[0]) if row else None


def delete_all(conn: Connection, user_id: uuid.UUID) -> list[tuple[uuid.UUID, bytes]]:
    """Delete every token of the user; (id, hash) of each."""
    rows = conn.execute(
        "DELETE FROM personal_access_tokens WHERE user_id = %s RETURNING id, token_hash", (user_id,)
    ).fetchall()
    return [(row[0], bytes(row[1])) for row in rows]


def entries_of_user(conn: Connection, user_id: uuid.UUID) -> list[EntryRow]:
    """The Redis entries of one user's tokens (after a change to the user)."""
    with conn.cursor(row_factory=class_row(EntryRow)) as cur:
        cur.execute(_SELECT_ENTRY + "WHERE t.user_id = %s", (user_id,))
        return [_bytes_hash(row) for row in cur.fetchall()]


def entry_of_token(conn: Connection, token_id: uuid.UUID) -> EntryRow | None:
    """The Redis entry of one token (after its creation)."""
    with conn.cursor(row_factory=class_row(EntryRow)) as cur:
        cur.execute(_SELECT_ENTRY + "WHERE t.id = %s", (token_id,))
        row = cur.fetchone()
        return _bytes_hash(row) if row else None


def all_entries(conn: Connection, grace_seconds: int) -> list[EntryRow]:
    """Every entry the rebuild writes: tokens of enabled users, unexpired or expired within the grace."""
    with conn.cursor(row_factory=class_row(EntryRow)) as cur:
        cur.execute(
            _SELECT_ENTRY + "WHERE u.disabled_at IS NULL"
            " AND t.expires_at > now() - make_interval(secs => %s)",
            (grace_seconds,),
        )
        return [_bytes_hash(row) for row in cur.fetchall()]


def _bytes_hash(row: EntryRow) -> EntryRow:
    # psycopg returns bytea as memoryview in some paths; the hex key needs bytes.
    if isinstance(row.token_hash, bytes):
        return row
    return EntryRow(**{**row.__dict__, "token_hash": bytes(row.token_hash)})


def record_use(conn: Connection, token_id: uuid.UUID, used_at: float) -> uuid.UUID | None:
    """Move a token's ``last_used_at`` forward to ``used_at``; its owner, or None if it is gone."""
    row = conn.execute(
        "UPDATE personal_access_tokens SET last_used_at = greatest(last_used_at, to_timestamp(%s))"
        " WHERE id = %s RETURNING user_id",
        (used_at, token_id),
    ).fetchone()
    return row[0] if row else None


def owner_of(conn: Connection, token_id: uuid.UUID) -> uuid.UUID | None:
    """The user a token belongs to, or None if it is gone."""
    row = conn.execute("SELECT user_id FROM personal_access_tokens WHERE id = %s", (token_id,)).fetchone()
    return row[0] if row else None


def prune(conn: Connection, grace_seconds: int) -> int:
    """Delete tokens expired longer ago than the grace; how many."""
    return conn.execute(
        "DELETE FROM personal_access_tokens WHERE expires_at < now() - make_interval(secs => %s)",
        (grace_seconds,),
    ).rowcount
