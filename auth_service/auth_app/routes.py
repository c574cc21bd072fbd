"""The auth_service routes of docs/API.md. Each one reads input, calls a service, shapes JSON."""

from flask import Blueprint, Response, current_app, g, request

from auth_app import browser_cookies, store
from auth_app.accounts import Accounts
from auth_app.login_metrics import counted_login
from auth_app.sessions import ClientInfo, Sessions
from auth_app.validation import ROLE, require_strings, validated_signup
from authcore.bearer import require_token
from authcore.contract import OPENAPI_DOCUMENT
from authcore.errors import Unavailable, ValidationFailed, json_response, no_content
from authcore.json_body import read_json_object, read_optional_json_object

bp = Blueprint("auth", __name__, url_prefix="/auth")
docs = Blueprint("docs", __name__)


def _accounts() -> Accounts:
    service: Accounts = current_app.extensions["accounts"]
    return service


def _sessions() -> Sessions:
    service: Sessions = current_app.extensions["sessions"]
    return service


def client_info() -> ClientInfo:
    """The caller's user agent and address (ProxyFix trusts exactly nginx's hop)."""
    return ClientInfo(user_agent=request.headers.get("User-Agent", ""), ip=request.remote_addr or "")


@bp.post("/signup")
def signup() -> Response:
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
def login() -> Response:
    """Exchange a username (or email) and password for an access and a refresh token."""
    cookie_mode = browser_cookies.cookie_mode(request)
    fields = require_strings(read_json_object(request), ("username", "password"))
    with counted_login():
        tokens = _accounts().login(fields["username"], fields["password"], client_info())
    if "mfa_required" in tokens:  # no tokens yet: the second step (POST /auth/login/mfa) gives them
        return json_response(tokens)
    return browser_cookies.token_response(tokens, request) if cookie_mode else json_response(tokens)


@bp.post("/refresh")
def refresh() -> Response:
    """Rotate a refresh token into a new token pair."""
    if browser_cookies.cookie_mode(request):
        return browser_cookies.refresh_from_cookie(request, _sessions(), client_info())
    # The body is optional in the document (cookie mode reads none): without
    # one, the missing refresh_token is the answer (422), not the media type.
    fields = require_strings(read_optional_json_object(request), ("refresh_token",))
    return json_response(_sessions().refresh(fields["refresh_token"], client_info()))


@bp.post("/logout")
@require_token()
def logout() -> Response:
    """End the current session: its tokens are refused from the next request on."""
    cookie_mode = browser_cookies.cookie_mode(request)
    _sessions().logout(g.claims)
    return browser_cookies.clear_cookie(no_content(), request) if cookie_mode else no_content()


@bp.post("/logout-all")
@require_token()
def logout_all() -> Response:
    """End every session of the caller."""
    cookie_mode = browser_cookies.cookie_mode(request)
    _sessions().logout_all(g.claims)
    return browser_cookies.clear_cookie(no_content(), request) if cookie_mode else no_content()


@bp.get("/sessions")
@require_token()
def list_sessions() -> Response:
    """The caller's active sessions."""
    return json_response({"sessions": _sessions().list(g.claims)})


@bp.delete("/sessions/<session_id>")
@require_token()
def end_session(session_id: str) -> Response:
    """End one of the caller's own sessions."""
    _sessions().end(g.claims, session_id, "ended_by_user")
    return no_content()


@bp.post("/password")
@require_token()
def change_password() -> Response:
    """Change the caller's password; every other session ends."""
    fields = require_strings(read_json_object(request), ("current_password", "new_password"))
    _accounts().change_password(g.claims, fields["current_password"], fields["new_password"])
    return no_content()


def _valid_role(role: str) -> str:
    if not ROLE.fullmatch(role):
        raise ValidationFailed(fields={"role": "must be 1-32 characters of a-z 0-9 _ -"})
    return role


@bp.put("/users/<username>/roles/<role>")
@require_token(role="admin")
def grant_role(username: str, role: str) -> Response:
    """Give a user a role (admin only, idempotent)."""
    _accounts().grant_role(username, _valid_role(role))
    return no_content()


@bp.delete("/users/<username>/roles/<role>")
@require_token(role="admin")
def revoke_role(username: str, role: str) -> Response:
    """Take a role from a user (admin only); effective from their next request."""
    _accounts().revoke_role(username, _valid_role(role))
    return no_content()


@bp.post("/users/<username>/disable")
@require_token(role="admin")
def disable_user(username: str) -> Response:
    """Disable a user (admin only): all their sessions end, logins are refused."""
    _accounts().disable(username)
    return no_content()


@bp.get("/healthz")
def healthz() -> Response:
    """200 only if both Postgres and Redis answer."""
    try:
        with current_app.extensions["pool"].connection() as conn:
            store.ping(conn)
        current_app.extensions["redis"].ping()
    except Exception:
        raise Unavailable("Postgres or Redis is unreachable.") from None
    return json_response({"status": "ok"})


@docs.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of both services (nginx serves it at /openapi.json)."""
    return current_app.response_class(OPENAPI_DOCUMENT.read_bytes(), mimetype="application/json")
