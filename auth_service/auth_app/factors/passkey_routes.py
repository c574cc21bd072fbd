"""The passkey routes of docs/API.md: adding, listing and removing passkeys, signing in with one."""

import uuid

from flask import Blueprint, Response, current_app, g, request

from auth_app import browser_cookies
from auth_app.factors.passkey_service import Passkeys
from auth_app.login_metrics import counted_login
from auth_app.routes import client_info
from auth_app.validation import require_strings
from authcore.bearer import require_token
from authcore.errors import ValidationFailed, json_response, no_content
from authcore.json_body import read_json_object, read_optional_json_object

bp = Blueprint("passkeys", __name__, url_prefix="/auth")


def _passkeys() -> Passkeys:
    service: Passkeys = current_app.extensions["passkeys"]
    return service


def _credential(body: dict[str, object]) -> object:
    if "credential" not in body:
        raise ValidationFailed(fields={"credential": "is required"})
    return body["credential"]


@bp.post("/passkeys/register/options")
@require_token()
def register_options() -> Response:
    """Creation options for a new passkey (recent login required)."""
    read_optional_json_object(request)
    return json_response(_passkeys().register_options(g.claims))


@bp.post("/passkeys/register")
@require_token()
def register() -> Response:
    """Store a new passkey from the browser's answer (recent login required)."""
    body = read_json_object(request)
    return json_response(_passkeys().register(g.claims, _credential(body), body.get("name")), 201)


@bp.get("/passkeys")
@require_token()
def list_passkeys() -> Response:
    """The caller's passkeys."""
    return json_response({"passkeys": _passkeys().list(g.claims)})


# A uuid converter: DELETE /auth/passkeys/register is then the 405 it should be, not a lookup.
@bp.delete("/passkeys/<uuid:passkey_id>")
@require_token()
def remove(passkey_id: uuid.UUID) -> Response:
    """Remove one of the caller's passkeys (recent login required)."""
    _passkeys().remove(g.claims, passkey_id)
    return no_content()


@bp.post("/passkeys/login/options")
def login_options() -> Response:
    """Request options for a sign-in without a password."""
    read_optional_json_object(request)
    return json_response(_passkeys().login_options())


@bp.post("/passkeys/login")
def login() -> Response:
    """Sign in with a passkey alone: the usual token response (cookie mode as for login)."""
    cookie_mode = browser_cookies.cookie_mode(request)
    body = read_json_object(request)
    with counted_login():
        tokens = _passkeys().login(_credential(body), client_info())
    return browser_cookies.token_response(tokens, request) if cookie_mode else json_response(tokens)


@bp.post("/login/mfa/passkey/options")
def second_step_options() -> Response:
    """Request options for the second step of a password login, limited to the user's passkeys."""
    fields = require_strings(read_json_object(request), ("mfa_token",))
    return json_response(_passkeys().second_step_options(fields["mfa_token"]))
