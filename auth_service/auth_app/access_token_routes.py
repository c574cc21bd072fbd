"""The personal-access-token routes of docs/API.md: a user's own, and an admin's view of anyone's.

Every route takes an access token from a login: auth_service refuses a
personal access token outright (401), so a token can never mint, list or
revoke tokens.
"""

import uuid

from flask import Blueprint, Response, current_app, g, request

from auth_app.access_tokens import AccessTokens
from authcore.bearer import require_token
from authcore.errors import json_response, no_content
from authcore.json_body import read_json_object

bp = Blueprint("access_tokens", __name__, url_prefix="/auth")


def _tokens() -> AccessTokens:
    service: AccessTokens = current_app.extensions["access_tokens"]
    return service


@bp.post("/tokens")
@require_token()
def create_token() -> Response:
    """Create a personal access token for the caller; the token is in this answer only."""
    return json_response(_tokens().create(g.claims, read_json_object(request)), 201)


@bp.get("/tokens")
@require_token()
def list_tokens() -> Response:
    """The caller's unexpired tokens."""
    return json_response({"tokens": _tokens().list(uuid.UUID(g.claims.user_id))})


@bp.delete("/tokens/<token_id>")
@require_token()
def revoke_token(token_id: str) -> Response:
    """Revoke one of the caller's tokens (another user's: 404)."""
    _tokens().revoke(uuid.UUID(g.claims.user_id), token_id)
    return no_content()


@bp.get("/users/<username>/tokens")
@require_token(role="admin")
def list_user_tokens(username: str) -> Response:
    """A user's unexpired tokens (admin only)."""
    return json_response({"tokens": _tokens().list(_tokens().user_id_of(username))})


@bp.delete("/users/<username>/tokens/<token_id>")
@require_token(role="admin")
def revoke_user_token(username: str, token_id: str) -> Response:
    """Revoke one of a user's tokens (admin only)."""
    _tokens().revoke(_tokens().user_id_of(username), token_id)
    return no_content()
