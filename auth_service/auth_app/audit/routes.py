"""GET /auth/audit and /auth/audit/verify (admins: the trail, its chain), GET /auth/events (your own)."""

import uuid
from datetime import datetime
from typing import Required, TypedDict

from flask import Blueprint, Response, current_app, g, request
from psycopg import Connection

from auth_app import audit
from auth_app.audit import store as audit_store
from auth_app.audit.chain import verify
from auth_app.validation import USERNAME, normalise_username
from authcore.bearer import require_token
from authcore.errors import ValidationFailed, json_response

bp = Blueprint("audit", __name__, url_prefix="/auth")
DEFAULT_PAGE, MAX_PAGE = 50, 200
OWN_EVENTS_DEFAULT, OWN_EVENTS_MAX = 20, 100
FILTERS = frozenset({"user", "type", "since", "until", "limit", "cursor"})
ACTION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")
NOBODY = uuid.UUID(int=0)  # a user filter that matches no event


class _Filters(TypedDict, total=False):
    """The keyword arguments of ``audit_store.find_events`` a query string asks for."""

    limit: Required[int]
    user_id: uuid.UUID | None
    action: str
    since: datetime
    until: datetime
    before_id: int


def _limit(default: int, maximum: int) -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ValidationFailed(fields={"limit": f"must be a whole number from 1 to {maximum}"})
    return int(raw)


def _user_filter(conn: Connection, raw: str) -> uuid.UUID | None:
    """A user id, or the id of the user so named (a name nobody has matches nothing)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        pass
    name = normalise_username(raw)
    if not USERNAME.fullmatch(name):  # no user can have it: don't ask the database
        return NOBODY
    return audit_store.user_id_by_name(conn, name) or NOBODY


def _audit_filters() -> _Filters:
    args = request.args
    problems = {name: "is not a known filter" for name in args if name not in FILTERS}
    filters: _Filters = {"limit": _limit(DEFAULT_PAGE, MAX_PAGE)}
    action = args.get("type")
    if action is not None:
        if not action or len(action) > 64 or not set(action) <= ACTION_CHARS:
            problems["type"] = "must be an event name such as authn_login_fail"
        filters["action"] = action
    for name in ("since", "until"):
        if args.get(name) is not None:
            try:
                filters[name] = audit.parse_time(args[name])
            except ValueError:
                problems[name] = "must be an ISO 8601 time such as 2026-01-31T12:00:00Z"
    cursor = args.get("cursor")
    if cursor is not None:
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
            problems["cursor"] = "must be the next_cursor of an earlier page"
        else:
            filters["before_id"] = int(cursor)
    if problems:
        raise ValidationFailed(fields=problems)
    return filters


@bp.get("/audit")
@require_token(role="admin")
def audit_trail() -> Response:
    """The audit trail, newest first (admin only); ``next_cursor`` fetches the next page."""
    filters = _audit_filters()
    with current_app.extensions["pool"].connection() as conn:
        if request.args.get("user"):
            filters["user_id"] = _user_filter(conn, request.args["user"])
        elif "user" in request.args:
            raise ValidationFailed(fields={"user": "must be a username or user id"})
        rows = audit_store.find_events(conn, **filters)
    next_cursor = str(rows[-1].id) if len(rows) == filters["limit"] else None
    return json_response({"events": [audit.event_body(row) for row in rows], "next_cursor": next_cursor})


@bp.get("/audit/verify")
@require_token(role="admin")
def audit_verify() -> Response:
    """Walk the audit trail's hash chain (admin only): intact, or its first broken link."""
    if request.args:
        raise ValidationFailed(fields={name: "is not a known parameter" for name in request.args})
    with current_app.extensions["pool"].connection() as conn:
        verdict = verify(conn)
    return json_response(verdict.body())


@bp.get("/events")
@require_token()
def own_events() -> Response:
    """The caller's own recent security events, newest first."""
    unknown = {name: "is not a known parameter" for name in request.args if name != "limit"}
    if unknown:
        raise ValidationFailed(fields=unknown)
    limit = _limit(OWN_EVENTS_DEFAULT, OWN_EVENTS_MAX)
    with current_app.extensions["pool"].connection() as conn:
        rows = audit_store.find_events(conn, user_id=uuid.UUID(g.claims.user_id), limit=limit)
    return json_response({"events": [audit.own_event_body(row, g.claims.user_id) for row in rows]})
