"""The admin routes of OIDC clients: ``POST/GET /auth/oauth2/clients``, ``DELETE .../<client_id>``."""

from flask import Blueprint, Response, current_app, request

from auth_app.oidc.clients import Clients
from authcore.bearer import require_token
from authcore.errors import json_response, no_content
from authcore.json_body import read_json_object

bp = Blueprint("oidc_clients", __name__, url_prefix="/auth/oauth2")


def _clients() -> Clients:
    service: Clients = current_app.extensions["oidc_clients"]
    return service


@bp.post("/clients")
@require_token(role="admin")
def create_client() -> Response:
    """Register a client (admin only); a confidential client's secret is in this answer only."""
    return json_response(_clients().create(read_json_object(request)), 201)


@bp.get("/clients")
@require_token(role="admin")
def list_clients() -> Response:
    """Every registered client (admin only), without secrets."""
    return json_response({"clients": _clients().list()})


@bp.delete("/clients/<client_id>")
@require_token(role="admin")
def delete_client(client_id: str) -> Response:
    """Remove a client (admin only): its sessions end, its tokens are refused from the next request."""
    _clients().delete(client_id)
    return no_content()
