"""Your routes: the place for your own API resources. Edit this module.

Everything here is served under ``/api/v1/example`` (rename the prefix) and
shares the stack's token checks, error shapes and speed. The two routes
below are a worked example; docs/INTEGRATING.md "Add your own routes" walks through them
and tests/test_your_routes.py is their test.

Protecting a route
    @require_token()                          any valid, unrevoked access token
    @require_token(role="admin")              ... that carries the role admin
    @require_token(any_of=("admin", "auditor"))   ... at least one of these roles
    @require_token(all_of=("billing", "admin"))   ... every one of these roles

    Put it below the route decorator. A view with a parameter named
    ``claims`` receives the verified ``authcore.tokens.AccessClaims``
    (``user_id``, ``username``, ``roles``, ``session_id``, ``token_id``,
    ``issued_at``, ``expires_at``); they are in ``flask.g.claims`` too. A
    personal access token (``pat_…``) is accepted the same way: its claims
    have ``session_id`` None and an empty ``amr``.
    A missing, bad, expired or revoked token is answered 401, a missing role
    403, an unreachable Redis 503, all in the JSON error shape of docs/API.md.

Answering
    Return a dict (200, JSON) or ``(dict, status)``, or any Flask response.
    Raise ``authcore.errors`` exceptions (``NotFound``, ``ValidationFailed``,
    ``Conflict``...) for errors; never build error bodies by hand.

Thin routes: the fast lane
    ``@require_token(..., thin=True)`` on a ``GET`` route with a fixed path
    (no ``<variables>``) whose view takes only ``claims`` and uses nothing
    else (no ``flask.request``, ``g`` or ``current_app``) lets api_service
    answer it before Flask, as fast as /api/v1/me (bench/PERFORMANCE.md). Any
    other route runs through Flask with the very same checks.
"""

from typing import Any

from flask import Blueprint

from authcore.bearer import require_token
from authcore.tokens import AccessClaims

bp = Blueprint("your_routes", __name__, url_prefix="/api/v1/example")


@bp.get("/hello")
@require_token(thin=True)
def hello(claims: AccessClaims) -> dict[str, Any]:
    """A greeting for any signed-in user: a thin route, answered before Flask."""
    return {"message": f"Hello, {claims.username}.", "user_id": claims.user_id}


@bp.get("/reports/<int(min=1, max=9999):year>")
@require_token(any_of=("admin", "auditor"))
def reports(year: int, claims: AccessClaims) -> dict[str, Any]:
    """One year's reports, for admins and auditors: a route with a path variable, served by Flask."""
    return {"year": year, "requested_by": claims.username, "reports": []}
