"""Audit events: who did what to which account, when, from where.

Each event is a row of ``audit_events`` written with the caller's
connection, so it commits or rolls back with the action it records, and one
JSON line on stdout. The line is written once the request is over and only
for rows that committed, so the log never tells of an action that was
rolled back. Names follow the OWASP logging vocabulary (docs/OPERATIONS.md
lists them). An event never carries a token, password or secret; the
client's address, user agent and request id come from the request.
"""

import contextlib
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, overload

import orjson
from flask import Flask, Response, current_app, g, has_request_context, request
from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app.audit import store as audit_store
from auth_app.store import User
from authcore import metrics

SUCCESS, FAILURE = "success", "failure"
MAX_USER_AGENT_CHARS = 256
# Session end reasons as stored, and as the sessions_ended metric names them.
END_REASON_LABELS = {
    "logout": "logout",
    "logout_all": "logout_all",
    "ended_by_user": "ended_by_user",
    "password_changed": "password_change",
    "refresh_token_reuse": "reuse",
    "user_disabled": "disable",
    "mfa_enabled": "mfa_enabled",
    "mfa_reset": "mfa_reset",
    "client_deleted": "client_deleted",
    "oidc_code_reused": "oidc_code_reused",
    "oidc_logout": "oidc_logout",
    "oidc_revoked": "oidc_revoked",
}


# An account or session id as callers hold it: a UUID or its text.
Id = uuid.UUID | str


@overload
def _as_uuid(value: None) -> None: ...
@overload
def _as_uuid(value: Id) -> uuid.UUID: ...
@overload
def _as_uuid(value: Id | None) -> uuid.UUID | None: ...
def _as_uuid(value: Id | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _caller_id() -> uuid.UUID | None:
    claims = g.get("claims") if has_request_context() else None
    return uuid.UUID(claims.user_id) if claims is not None else None


def record(
    conn: Connection,
    action: str,
    *,
    result: str = SUCCESS,
    actor: Id | None = None,
    target: Id | None = None,
    session: Id | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one event with ``conn`` (inside the action's transaction).

    ``actor`` defaults to the authenticated caller; ``target`` is the
    account the event concerns. ``details`` must hold no secret.
    """
    in_request = has_request_context()
    event: audit_store.NewEvent = {
        "action": action,
        "result": result,
        "actor_id": _as_uuid(actor) or _caller_id(),
        "target_id": _as_uuid(target),
        "session_id": _as_uuid(session),
        "client_ip": (request.remote_addr or "") if in_request else "",
        "user_agent": request.headers.get("User-Agent", "")[:MAX_USER_AGENT_CHARS] if in_request else "",
        "request_id": g.get("request_id", "") if in_request else "",
        "details": details or {},
    }
    row = audit_store.insert_event(conn, event)
    if in_request:
        g.setdefault("audit_rows", []).append(row)
    else:
        # A command (the first-admin one): it commits before it exits.
        _publish(row)


def record_alone(pool: ConnectionPool, action: str, **fields: Any) -> None:
    """Write one event in a transaction of its own (an attempt that changed nothing else)."""
    with pool.connection() as conn, conn.transaction():
        record(conn, action, **fields)


def sessions_revoked(conn: Connection, user_id: Id | None, session_ids: Sequence[Id], reason: str) -> None:
    """A ``session_revoked`` event for sessions of ``user_id`` that were just ended."""
    if session_ids:
        record(
            conn,
            "session_revoked",
            target=user_id,
            session=session_ids[0] if len(session_ids) == 1 else None,
            details={"reason": reason, "sessions": [str(sid) for sid in session_ids]},
        )


def login_succeeded(conn: Connection, user_id: Id, session_id: Id) -> None:
    """``authn_login_success`` and ``session_created``, in the login's transaction."""
    record(conn, "authn_login_success", actor=user_id, target=user_id, session=session_id)
    record(conn, "session_created", actor=user_id, target=user_id, session=session_id)


def login_failed(pool: ConnectionPool, user: User | None, password_ok: bool) -> None:
    """``authn_login_fail``: unknown user, wrong password or disabled account (never the name tried)."""
    if user is None:
        reason = "unknown_user"
    elif not password_ok:
        reason = "bad_password"
    else:
        reason = "disabled"
    g.login_result = "disabled" if reason == "disabled" else "invalid_credentials"
    record_alone(
        pool, "authn_login_fail", result=FAILURE, target=user.id if user else None, details={"reason": reason}
    )


def login_locked(pool: ConnectionPool, throttle_key: str, retry_after: int) -> None:
    """``authn_login_lock``: an attempt refused because the account's failures closed it for a while."""
    kind, _, value = throttle_key.partition(":")
    record_alone(
        pool,
        "authn_login_lock",
        result=FAILURE,
        target=value if kind == "user" else None,
        details={"retry_after": retry_after, "operation": request.path if has_request_context() else ""},
    )


def token_reused(conn: Connection, session_id: Id) -> None:
    """``authn_token_reuse``: a used refresh token came back; its session is ended (same transaction)."""
    owner = audit_store.session_owner(conn, _as_uuid(session_id))
    record(conn, "authn_token_reuse", result=FAILURE, target=owner, session=session_id)
    sessions_revoked(conn, owner, [session_id], "refresh_token_reuse")


def _publish(row: audit_store.AuditRow) -> None:
    """The stdout line and the metrics of one committed event."""
    line = {
        "time": row.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "service": "auth_service",
        "logger": "audit",
        "request_id": row.request_id or "-",
        "message": row.action,
        "fields": event_body(row),
    }
    sys.stdout.write(orjson.dumps(line).decode("utf-8") + "\n")
    sys.stdout.flush()
    metrics.AUDIT_EVENTS.labels(action=row.action, result=row.result).inc()
    if row.action == "session_revoked":
        reason = END_REASON_LABELS.get(row.details.get("reason", ""), "other")
        metrics.SESSIONS_ENDED.labels(reason=reason).inc(len(row.details.get("sessions", [])))
    elif row.action == "user_created":
        metrics.SIGNUPS.labels(result="created").inc()


def event_body(row: audit_store.AuditRow) -> dict[str, Any]:
    """An event as GET /auth/audit and GET /auth/events show it."""
    return {
        "id": str(row.id),
        "time": row.occurred_at.astimezone(UTC).isoformat(),
        "action": row.action,
        "result": row.result,
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "target_id": str(row.target_id) if row.target_id else None,
        "session_id": str(row.session_id) if row.session_id else None,
        "client_ip": row.client_ip,
        "user_agent": row.user_agent,
        "request_id": row.request_id,
        "details": row.details,
    }


# Where a request came from: the actor's own business. Shown in GET
# /auth/events only for what the caller did, never for what an admin or a
# stranger (a failed login on the caller's name) did to the account.
OTHERS_HIDDEN = ("client_ip", "user_agent", "request_id")


def own_event_body(row: audit_store.AuditRow, caller_id: str) -> dict[str, Any]:
    """An event as GET /auth/events shows it to ``caller_id``: where others acted from, blanked."""
    body = event_body(row)
    if body["actor_id"] != caller_id:
        body.update(dict.fromkeys(OTHERS_HIDDEN, ""))
    return body


def init_app(app: Flask) -> None:
    """Publish each request's committed events when it ends; audit refused authorisations."""

    @app.after_request
    def _audit_refusal(response: Response) -> Response:
        # A valid token without the role a route needs (require_token answers 403).
        if response.status_code == 403 and g.get("claims") is not None:
            route = request.url_rule.rule if request.url_rule else ""
            # Postgres down: the 403 still stands, unaudited.
            with contextlib.suppress(Exception):
                record_alone(
                    current_app.extensions["pool"],
                    "authz_fail",
                    result=FAILURE,
                    target=g.claims.user_id,
                    details={"method": request.method, "route": route},
                )
        return response

    @app.teardown_request
    def _publish_committed(_exc: BaseException | None) -> None:
        rows = g.pop("audit_rows", None)
        if not rows:
            return
        try:
            with current_app.extensions["pool"].connection() as conn:
                committed = audit_store.committed_ids(conn, [row.id for row in rows])
        except Exception:  # Postgres went away since: say so rather than guess
            committed = set()
            sys.stderr.write(f"audit: could not confirm {len(rows)} event(s); the table is authoritative\n")
        for row in rows:
            if row.id in committed:
                _publish(row)


def parse_time(value: str) -> datetime:
    """An ISO 8601 instant (``Z`` allowed); a value without offset is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
