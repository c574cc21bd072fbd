"""The api_service routes: who am I, an admin-only example, and health."""

import redis
from flask import Blueprint, current_app, g

from api_app.fast_path import me_body
from authcore.bearer import require_token
from authcore.errors import Unavailable, json_response

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/v1/me")
@require_token()
def me():
    """The caller, as the verified token describes them.

    A good token is answered by ``fast_path.MeFastPath`` before Flask
    reaches this route; what falls through (no, bad or revoked tokens) is
    refused here by ``require_token`` as on every other route.
    """
    return json_response(me_body(g.claims))


@bp.get("/v1/admin")
@require_token(role="admin")
def admin():
    """An example route only the ``admin`` role may call."""
    return json_response({"message": f"Hello, admin {g.claims.username}."})


@bp.get("/healthz")
def healthz():
    """200 when the revocation list in Redis can be read, else 503."""
    try:
        ready = current_app.extensions["authenticator"].revocations.is_ready()
    except redis.RedisError:
        raise Unavailable("Redis is unreachable.") from None
    if not ready:
        raise Unavailable("The revocation list is being rebuilt.")
    return json_response({"status": "ok"})
