"""The api_service routes: who am I, an admin-only example, and health."""

from typing import Any

import redis
from flask import Blueprint, Response, current_app

from authcore.bearer import require_token
from authcore.errors import Unavailable, json_response
from authcore.tokens import AccessClaims

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/v1/me")
@require_token(thin=True)
def me(claims: AccessClaims) -> dict[str, Any]:
    """The caller, as the verified token describes them (docs/API.md)."""
    return {
        "id": claims.user_id,
        "username": claims.username,
        "roles": list(claims.roles),
        "email_verified": claims.email_verified,
        "session_id": claims.session_id,
        "amr": list(claims.amr),
        "expires_at": claims.expires_at,
    }


@bp.get("/v1/admin")
@require_token(role="admin", thin=True)
def admin(claims: AccessClaims) -> dict[str, Any]:
    """An example route only the ``admin`` role may call."""
    return {"message": f"Hello, admin {claims.username}."}


@bp.get("/healthz")
def healthz() -> Response:
    """200 when the revocation list in Redis can be read, else 503."""
    try:
        ready = current_app.extensions["authenticator"].revocations.is_ready()
    except redis.RedisError:
        raise Unavailable("Redis is unreachable.") from None
    if not ready:
        raise Unavailable("The revocation list is being rebuilt.")
    return json_response({"status": "ok"})
