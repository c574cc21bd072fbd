"""The second-factor routes of docs/API.md: enrolment, the second login step, an admin's reset."""

from flask import Blueprint, Response, current_app, g, request

from auth_app import browser_cookies
from auth_app.factors.passkey_service import Passkeys
from auth_app.factors.service import SecondFactors
from auth_app.routes import client_info
from auth_app.validation import require_strings
from authcore.bearer import require_token
from authcore.errors import json_response, no_content
from authcore.json_body import read_json_object

bp = Blueprint("factors", __name__, url_prefix="/auth")


def _factors() -> SecondFactors:
    service: SecondFactors = current_app.extensions["second_factors"]
    return service


@bp.get("/mfa")
@require_token()
def status() -> Response:
    """Which second factors the caller has."""
    return json_response(_factors().status(g.claims))


@bp.post("/mfa/totp")
@require_token()
def setup_totp() -> Response:
    """A new pending TOTP secret for the caller's app (password required)."""
    fields = require_strings(read_json_object(request), ("password",))
    return json_response(_factors().setup_totp(g.claims, fields["password"]))


@bp.post("/mfa/totp/confirm")
@require_token()
def confirm_totp() -> Response:
    """Turn TOTP on with a first code; the recovery codes, shown this once."""
    fields = require_strings(read_json_object(request), ("code",))
    return json_response({"recovery_codes": _factors().confirm_totp(g.claims, fields["code"])})


@bp.delete("/mfa/totp")
@require_token()
def disable_totp() -> Response:
    """Turn TOTP off (password and a code); the recovery codes die with it."""
    fields = require_strings(read_json_object(request), ("password", "code"))
    _factors().disable_totp(g.claims, fields["password"], fields["code"])
    return no_content()


@bp.post("/mfa/recovery-codes")
@require_token()
def regenerate_recovery_codes() -> Response:
    """Ten new recovery codes; the old ones stop working."""
    fields = require_strings(read_json_object(request), ("code",))
    return json_response({"recovery_codes": _factors().regenerate_recovery_codes(g.claims, fields["code"])})


@bp.post("/login/mfa")
def login_second_step() -> Response:
    """The second step of a login: the ``mfa_token`` and a code (or a passkey) for the token response."""
    cookie_mode = browser_cookies.cookie_mode(request)
    body = read_json_object(request)
    if "credential" in body:  # a passkey's answer instead of a code
        token = require_strings(body, ("mfa_token",))["mfa_token"]
        passkeys: Passkeys = current_app.extensions["passkeys"]
        tokens = passkeys.finish_second_step(token, body["credential"], client_info())
    else:
        fields = require_strings(body, ("mfa_token", "code"))
        tokens = _factors().finish_login(fields["mfa_token"], fields["code"], client_info())
    return browser_cookies.token_response(tokens, request) if cookie_mode else json_response(tokens)


@bp.delete("/users/<username>/mfa")
@require_token(role="admin")
def admin_reset(username: str) -> Response:
    """Remove every second factor of a user and end their sessions (admin only)."""
    _factors().admin_reset(username)
    return no_content()
