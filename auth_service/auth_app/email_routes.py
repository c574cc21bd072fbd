"""The mail routes of docs/API.md: password reset, email verification, the outbox counts."""

from flask import Blueprint, Response, current_app, g, request

from auth_app.email_verification import EmailVerification
from auth_app.mail.outbox import outbox_counts
from auth_app.password_reset import PasswordReset
from auth_app.validation import require_strings
from authcore.bearer import require_token
from authcore.errors import json_response
from authcore.json_body import read_json_object

bp = Blueprint("mail", __name__, url_prefix="/auth")

RESET_REQUESTED = "If that address belongs to an account, a reset link is on its way."
VERIFICATION_REQUESTED = "A new verification link is on its way, unless the address is verified already."


def _password_reset() -> PasswordReset:
    service: PasswordReset = current_app.extensions["password_reset"]
    return service


def _email_verification() -> EmailVerification:
    service: EmailVerification = current_app.extensions["email_verification"]
    return service


@bp.post("/password/forgot")
def forgot_password() -> Response:
    """Ask for a reset link: the same 202 for every address."""
    fields = require_strings(read_json_object(request), ("email",))
    _password_reset().request(fields["email"])
    return json_response({"message": RESET_REQUESTED}, 202)


@bp.post("/password/reset")
def reset_password() -> tuple[str, int]:
    """Set a new password with a mailed token; every session of the user ends."""
    fields = require_strings(read_json_object(request), ("token", "new_password"))
    _password_reset().reset(fields["token"], fields["new_password"])
    return "", 204


@bp.post("/email/verify")
def verify_email() -> tuple[str, int]:
    """Confirm the account's address with a mailed token."""
    fields = require_strings(read_json_object(request), ("token",))
    _email_verification().verify(fields["token"])
    return "", 204


@bp.post("/email/verify/resend")
@require_token()
def resend_verification() -> Response:
    """Mail the caller a new verification link."""
    _email_verification().resend(g.claims.user_id)
    return json_response({"message": VERIFICATION_REQUESTED}, 202)


@bp.get("/admin/outbox")
@require_token(role="admin")
def outbox_status() -> Response:
    """How many messages are pending, sent, skipped and failed (admin only)."""
    return json_response(outbox_counts(current_app.extensions["pool"]))
