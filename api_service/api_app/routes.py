"""The api_service routes: who am I, an admin-only example, and health."""

from functools import wraps

from flask import Blueprint, current_app, g, request

from authcore.errors import Forbidden, Unavailable, json_response

bp = Blueprint("api", __name__, url_prefix="/api")


def require_token(role: str | None = None):
    """Route decorator: a valid, unrevoked access token (with ``role`` if given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.claims = current_app.extensions["authenticator"].authenticate(request)
            if role is not None and role not in g.claims.roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.get("/v1/me")
@require_token()
def me():
    """The caller, as the verified token describes them."""
    claims = g.claims
    return json_response(
        {
            "id": claims.user_id,
            "username": claims.username,
            "roles": list(claims.roles),
            "session_id": claims.session_id,
            "expires_at": claims.expires_at,
        }
    )


@bp.get("/v1/admin")
@require_token(role="admin")
def admin():
    """An example route only the ``admin`` role may call."""
    return json_response({"message": f"Hello, admin {g.claims.username}."})


@bp.get("/healthz")
def healthz():
    """200 when Redis answers, else 503: without Redis no token can be checked."""
    try:
        current_app.extensions["redis"].ping()
    except Exception:
        raise Unavailable("Redis is unreachable.") from None
    return json_response({"status": "ok"})
