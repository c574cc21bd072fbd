"""All of the audit trail's SQL: insert, page through, confirm, prune.

Raw, parameterised statements only; the caller chooses the transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from psycopg import Connection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class AuditRow:
    """A row of ``audit_events``."""

    id: int
    occurred_at: datetime
    action: str
    result: str
    actor_id: uuid.UUID | None
    target_id: uuid.UUID | None
    session_id: uuid.UUID | None
    client_ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any]  # jsonb: JSON only


class NewEvent(TypedDict):
    """An event to insert: the columns of ``AuditRow`` but ``id`` and ``occurred_at``."""

    action: str
    result: str
    actor_id: uuid.UUID | None
    target_id: uuid.UUID | None
    session_id: uuid.UUID | None
    client_ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any]


_COLUMNS = (
    "id, occurred_at, action, result, actor_id, target_id, session_id, client_ip, user_agent,"
    " request_id, details"
)


def insert_event(conn: Connection, event: NewEvent) -> AuditRow:
    """Insert one event (the keys of ``AuditRow`` but id and occurred_at); the stored row."""
    with conn.cursor(row_factory=class_row(AuditRow)) as cur:
        cur.execute(
            "INSERT INTO audit_events (action, result, actor_id, target_id, session_id, client_ip,"
            " user_agent, request_id, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id, occurred_at, action, result, actor_id, target_id, session_id, client_ip,"
            " user_agent, request_id, details",
            (
                event["action"],
                event["result"],
                event["actor_id"],
                event["target_id"],
                event["session_id"],
                event["client_ip"],
                event["user_agent"],
                event["request_id"],
                Jsonb(event["details"]),
            ),
        )
        row = cur.fetchone()
    if row is None:  # INSERT ... RETURNING always gives the row; None would be a driver fault
        raise RuntimeError("INSERT INTO audit_events returned no row")
    return row


def committed_ids(conn: Connection, ids: list[int]) -> set[int]:
    """Which of these event ids exist (their transaction committed)."""
    rows = conn.execute("SELECT id FROM audit_events WHERE id = ANY(%s)", (ids,)).fetchall()
    return {row[0] for row in rows}


def find_events(
    conn: Connection,
    *,
    user_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditRow]:
    """Events newest first, filtered; ``before_id`` continues a page (keyset pagination)."""
    conditions: list[str] = []
    params: list[object] = []
    if user_id is not None:
        conditions.append("(target_id = %s OR actor_id = %s)")
        params += [user_id, user_id]
    for clause, value in (
        ("action = %s", action),
        ("occurred_at >= %s", since),
        ("occurred_at < %s", until),
        ("id < %s", before_id),
    ):
        if value is not None:
            conditions.append(clause)
            params.append(value)
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    with conn.cursor(row_factory=class_row(AuditRow)) as cur:
        # The clauses are fixed strings chosen above; every value is a parameter.
        cur.execute(
            f"SELECT {_COLUMNS} FROM audit_events{where} ORDER BY id DESC LIMIT %s",  # noqa: S608
            (*params, limit),
        )
        return cur.fetchall()


def session_owner(conn: Connection, session_id: uuid.UUID) -> uuid.UUID | None:
    """The user a session belongs to."""
    row = conn.execute("SELECT user_id FROM sessions WHERE id = %s", (session_id,)).fetchone()
    return row[0] if row else None


def user_id_by_name(conn: Connection, username: str) -> uuid.UUID | None:
    """The id of the user with this normalised username."""
    row = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    return row[0] if row else None


def prune_events(conn: Connection, keep_days: int) -> int:
    """Delete events older than ``keep_days``; the number deleted.

    Through ``prune_audit_events`` (migration 009), which runs as a role that
    may only delete by age: the service itself may not delete events.
    """
    row = conn.execute("SELECT prune_audit_events(%s)", (keep_days,)).fetchone()
    if row is None:  # a SELECT of a function always gives one row
        raise RuntimeError("prune_audit_events returned no row")
    deleted: int = row[0]
    return deleted
