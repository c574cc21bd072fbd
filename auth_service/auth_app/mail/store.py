"""All of the mail feature's SQL: the outbox, mailed tokens, verified addresses, known devices.

Raw, parameterised statements only, like ``auth_app.store``; functions take a
connection so that callers choose the transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from auth_app.validation import normalise_email

# --- the outbox ---------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    """One message to send, as a sender claims it."""

    id: int
    kind: str
    user_id: uuid.UUID | None
    email: str | None
    details: dict[str, Any]  # jsonb: JSON only
    attempts: int
    created_at: datetime


def enqueue(
    conn: Connection,
    kind: str,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add a message to the outbox (inside the caller's transaction, with the action it reports)."""
    conn.execute(
        "INSERT INTO mail_outbox (kind, user_id, email, details) VALUES (%s, %s, %s, %s)",
        (kind, user_id, email, Jsonb(details or {})),
    )


def claim_due(conn: Connection, lease_seconds: int) -> OutboxRow | None:
    """Lease the oldest due pending message for ``lease_seconds``; None if nothing is due.

    One statement: ``SKIP LOCKED`` lets senders in other workers and replicas
    pass a row being claimed, and once claimed the row is not due again until
    the lease runs out (the sender died) or it is rescheduled.
    """
    with conn.cursor(row_factory=class_row(OutboxRow)) as cur:
        cur.execute(
            "UPDATE mail_outbox SET attempts = attempts + 1,"
            " next_attempt_at = now() + make_interval(secs => %s)"
            " WHERE id = (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= now()"
            "             ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, kind, user_id, email, details, attempts, created_at",
            (lease_seconds,),
        )
        return cur.fetchone()


def finish(conn: Connection, message_id: int, status: str, error: str | None = None) -> None:
    """Mark a message ``sent``, ``skipped`` or ``failed`` for good."""
    conn.execute(
        "UPDATE mail_outbox SET status = %s, last_error = %s, finished_at = now() WHERE id = %s",
        (status, error, message_id),
    )


def retry_later(conn: Connection, message_id: int, delay_seconds: float, error: str) -> None:
    """Put a message back in the queue, due after ``delay_seconds``."""
    conn.execute(
        "UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => %s), last_error = %s"
        " WHERE id = %s",
        (delay_seconds, error, message_id),
    )


def outbox_counts(conn: Connection) -> dict[str, int]:
    """How many messages are in each state (every state present, zero or not)."""
    counts = {"pending": 0, "sent": 0, "skipped": 0, "failed": 0}
    for status, count in conn.execute("SELECT status, count(*) FROM mail_outbox GROUP BY status"):
        counts[status] = count
    return counts


def prune(conn: Connection, keep_seconds: int) -> tuple[int, int]:
    """Delete finished messages older than ``keep_seconds`` and expired tokens; (messages, tokens)."""
    messages = conn.execute(
        "DELETE FROM mail_outbox WHERE finished_at < now() - make_interval(secs => %s)", (keep_seconds,)
    ).rowcount
    tokens = conn.execute("DELETE FROM email_tokens WHERE expires_at < now()").rowcount
    return messages, tokens


# --- recipients -------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """The user a message goes to."""

    id: uuid.UUID
    username: str
    email: str
    email_verified: bool
    disabled: bool


_SELECT_RECIPIENT = (
    "SELECT id, username, email, email_verified_at IS NOT NULL AS email_verified,"
    " disabled_at IS NOT NULL AS disabled FROM users "
)


def recipient_by_id(conn: Connection, user_id: uuid.UUID) -> Recipient | None:
    """The user with this id."""
    with conn.cursor(row_factory=class_row(Recipient)) as cur:
        cur.execute(_SELECT_RECIPIENT + "WHERE id = %s", (user_id,))
        return cur.fetchone()


def recipient_by_email(conn: Connection, email: str) -> Recipient | None:
    """The user with this email address (compared by ``normalise_email``)."""
    with conn.cursor(row_factory=class_row(Recipient)) as cur:
        cur.execute(_SELECT_RECIPIENT + "WHERE email_key = %s", (normalise_email(email),))
        return cur.fetchone()


# --- mailed tokens ----------------------------------------------------------------


def replace_token(
    conn: Connection, token_hash: bytes, user_id: uuid.UUID, purpose: str, email: str, ttl_seconds: int
) -> None:
    """Store a new token for ``purpose``; the user's older ones for it stop working."""
    delete_tokens(conn, user_id, purpose)
    conn.execute(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
        (token_hash, user_id, purpose, email, ttl_seconds),
    )


def delete_tokens(conn: Connection, user_id: uuid.UUID, purpose: str) -> None:
    """Make every token of the user for ``purpose`` unusable."""
    conn.execute("DELETE FROM email_tokens WHERE user_id = %s AND purpose = %s", (user_id, purpose))


def token_owner(conn: Connection, token_hash: bytes, purpose: str) -> uuid.UUID | None:
    """The user a token would be valid for (see ``consume_token``), without using it; None if none."""
    row = conn.execute(
        "SELECT t.user_id FROM email_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = %s AND t.purpose = %s AND t.expires_at > now() AND u.disabled_at IS NULL",
        (token_hash, purpose),
    ).fetchone()
    return row[0] if row else None


def consume_token(conn: Connection, token_hash: bytes, purpose: str) -> tuple[uuid.UUID, str] | None:
    """Use a token: (user id, email mailed to) if it was valid; it is gone either way.

    Valid means: for ``purpose``, not expired, and its user not disabled. One
    DELETE, so of two concurrent uses exactly one gets the row.
    """
    row = conn.execute(
        "DELETE FROM email_tokens t USING users u"
        " WHERE t.token_hash = %s AND t.purpose = %s AND t.expires_at > now()"
        " AND u.id = t.user_id AND u.disabled_at IS NULL"
        " RETURNING t.user_id, t.email",
        (token_hash, purpose),
    ).fetchone()
    return (row[0], row[1]) if row else None


def mark_email_verified(conn: Connection, user_id: uuid.UUID, email: str) -> bool:
    """Record the user's address as verified if it is still ``email``; False if it changed."""
    cur = conn.execute(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now())"
        " WHERE id = %s AND email_key = %s",
        (user_id, normalise_email(email)),
    )
    return cur.rowcount == 1


# --- known devices ----------------------------------------------------------------


def forget_unused_devices(conn: Connection, unused_days: int) -> int:
    """Delete the devices nobody signed in from for ``unused_days``; how many."""
    return conn.execute(
        "DELETE FROM known_devices WHERE last_seen < now() - make_interval(days => %s)", (unused_days,)
    ).rowcount


def remember_device(conn: Connection, user_id: uuid.UUID, device_hash: bytes) -> tuple[bool, bool]:
    """Record a sign-in from a device of the user: (it was new, the user had other devices before)."""
    seen_before = conn.execute(
        "UPDATE known_devices SET last_seen = now() WHERE user_id = %s AND device_hash = %s",
        (user_id, device_hash),
    ).rowcount
    # A concurrent first sign-in from the same device may insert it first: then it is not new.
    inserted = (
        not seen_before
        and conn.execute(
            "INSERT INTO known_devices (user_id, device_hash) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (user_id, device_hash),
        ).rowcount
    )
    if not inserted:
        return False, True
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM known_devices WHERE user_id = %s AND device_hash <> %s)",
        (user_id, device_hash),
    ).fetchone()
    if row is None:  # SELECT EXISTS always gives one row
        raise RuntimeError("SELECT EXISTS returned no row")
    others: bool = row[0]
    return True, others
