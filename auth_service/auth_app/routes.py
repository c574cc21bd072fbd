"""The auth_service routes of API.md: signup, login, logout, health."""

from functools import wraps

from flask import Blueprint, current_app, g, request

from auth_app import store
from auth_app.accounts import ClientInfo
from auth_app.validation import require_strings, validated_signup
from authcore.errors import Unavailable, json_response
from authcore.json_body import read_json_object

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _accounts():
    return current_app.extensions["accounts"]


def require_token(view):
    """Route decorator: a valid, unrevoked access token, its claims in ``g.claims``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.claims = current_app.extensions["authenticator"].authenticate(request)
        return view(*args, **kwargs)

    return wrapper


def client_info() -> ClientInfo:
    """The caller's user agent and address (ProxyFix trusts exactly nginx's hop)."""
    return ClientInfo(user_agent=request.headers.get("User-Agent", ""), ip=request.remote_addr or "")


@bp.post("/signup")
def signup():
    """Create an account; never sets roles from the body."""
    fields = validated_signup(read_json_object(request))
    user = _accounts().signup(fields["username"], fields["email"], fields["password"])
    body = {
        "id": str(user.id),
        "username": user.username,
        "email": user.email,
        "roles": user.roles,
        "created_at": user.created_at.isoformat(),
    }
    return json_response(body, 201)


@bp.post("/login")
def login():
    """Exchange a username (or email) and password for an access and a refresh token."""
    fields = require_strings(read_json_object(request), ("username", "password"))
    return json_response(_accounts().login(fields["username"], fields["password"], client_info()))


@bp.post("/logout")
@require_token
def logout():
    """End the current session: its tokens are refused from the next request on."""
    _accounts().logout(g.claims)
    return "", 204


@bp.get("/healthz")
def healthz():
    """200 only if both Postgres and Redis answer."""
    try:
        with current_app.extensions["pool"].connection() as conn:
            store.ping(conn)
        current_app.extensions["redis"].ping()
    except Exception:
        raise Unavailable("Postgres or Redis is unreachable.") from None
    return json_response({"status": "ok"})
