"""userinfo (OpenID Connect Core 5.3), revocation (RFC 7009) and introspection (RFC 7662).

Every token here is one of the user's sessions: an access token is checked
like at any route (signature, then the revocation list), a refresh token
by its hash. Revoking either ends the client's session through
``auth_app.revoking``, so all its tokens are refused from the next request.
A client may revoke or introspect only its own sessions' tokens; anything
else reads as unknown (RFC 7009: still 200; RFC 7662: ``active: false``).
"""

import uuid
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, UnauthorizedClientError
from flask import Blueprint, Response, current_app, request

from auth_app.oidc import grant_store
from auth_app.oidc.clients import CONFIDENTIAL
from auth_app.oidc.grant_store import ClientSession
from auth_app.oidc.models import Client, SignedInUser
from auth_app.oidc.routes import plain_parameters
from auth_app.oidc.server import IssuerServer, Provider, user_info
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token
from auth_app.revoking import end_session
from auth_app.store import find_user_by_id
from authcore.bearer import Authenticator, require_token
from authcore.errors import ApiError, InvalidTokenError, json_response
from authcore.tokens import AccessClaims

bp = Blueprint("oidc_tokens", __name__, url_prefix="/auth/oauth2")
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
JSON_NO_STORE = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def _server() -> IssuerServer:
    server: IssuerServer = current_app.extensions["oidc_server"]
    return server


def _provider() -> Provider:
    provider: Provider = current_app.extensions["oidc_provider"]
    return provider


def _access_claims(token: str) -> AccessClaims | None:
    """The verified, unrevoked claims of an access token, or None."""
    authenticator: Authenticator = current_app.extensions["authenticator"]
    try:
        return authenticator.authenticate_header(f"Bearer {token}")
    except ApiError:  # invalid, expired, revoked, or not an access token at all
        return None


def _session_of(token: str, hint: str | None) -> tuple[ClientSession | None, AccessClaims | None]:
    """The session ``token`` belongs to (refresh or access token), and an access token's claims."""
    with _provider().pool.connection() as conn:
        if looks_like_refresh_token(token):
            return grant_store.session_of_refresh_token(conn, hash_refresh_token(token)), None
    claims = _access_claims(token) if len(token) < 8192 else None
    if claims is None or claims.session_id is None:
        return None, None
    with _provider().pool.connection() as conn:
        return grant_store.client_session(conn, uuid.UUID(claims.session_id)), claims


@bp.route("/userinfo", methods=["GET", "POST"])
@require_token()
def userinfo(claims: AccessClaims) -> Response:
    """The signed-in person's claims the client's scope allows; 401 for a token of no client session."""
    session = None
    if claims.session_id is not None:
        with _provider().pool.connection() as conn:
            session = grant_store.client_session(conn, uuid.UUID(claims.session_id))
    if session is None or not session.active or session.client_id is None:
        raise InvalidTokenError("This access token belongs to no single sign-on client.")
    with _provider().pool.connection() as conn:
        user = find_user_by_id(conn, session.user_id)
    if user is None:
        raise InvalidTokenError()
    signed_in = SignedInUser(user.id, user.username, user.email, bool(user.email_verified))
    return json_response(dict(user_info(signed_in, session.client_scope or "openid")))


def _authenticated_client(methods: list[str]) -> Client:
    if not plain_parameters():
        raise InvalidRequestError("A parameter holds characters it may not.")
    server = _server()
    client: Client = server.authenticate_client(server.create_oauth2_request(request), methods, "revocation")
    return client


def _oauth_error(error: OAuth2Error) -> Response:
    response: Response = _server().handle_error_response(None, error)
    return response


@bp.post("/revoke")
def revoke() -> Response:
    """RFC 7009: end the session of the client's token; 200 whatever the token was."""
    try:
        client = _authenticated_client(CLIENT_AUTH_METHODS)
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token'.")
    except OAuth2Error as error:
        return _oauth_error(error)
    session, _ = _session_of(token, request.form.get("token_type_hint"))
    if session is not None and session.active and session.client_id == client.client_id:
        provider = _provider()
        with provider.pool.connection() as conn, conn.transaction():
            end_session(conn, provider.revocations, session.session_id, session.user_id, "oidc_revoked")
    answer: Response = _server().handle_response(200, {}, JSON_NO_STORE)
    return answer


@bp.post("/introspect")
def introspect() -> Response:
    """RFC 7662, for confidential clients: whether the token is active, and about whom."""
    try:
        client = _authenticated_client(SECRET_METHODS)
        if client.row.client_type != CONFIDENTIAL:
            raise UnauthorizedClientError("Introspection is for confidential clients.")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token'.")
    except OAuth2Error as error:
        return _oauth_error(error)
    session, claims = _session_of(token, request.form.get("token_type_hint"))
    body: dict[str, Any] = {"active": False}
    if session is not None and session.active and session.client_id == client.client_id:
        body = {
            "active": True,
            "client_id": client.client_id,
            "sub": str(session.user_id),
            "scope": session.client_scope or "",
            "token_type": "access_token" if claims else "refresh_token",
        }
        if claims is not None:
            body.update(exp=claims.expires_at, iat=int(claims.issued_at), username=claims.username)
    answer: Response = _server().handle_response(200, body, JSON_NO_STORE)
    return answer
