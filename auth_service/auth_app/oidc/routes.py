"""The provider's endpoints: ``/auth/oauth2/authorize`` (HTML pages), ``/auth/oauth2/token`` (forms).

These are the exceptions to the JSON-only rule the RFCs make (docs/API.md):
the authorize endpoint is a page in the person's browser, the token
endpoint takes ``application/x-www-form-urlencoded`` and answers RFC 6749's
JSON errors. An error that can't go back to a registered redirect URI is an
HTML page; one that can is redirected with ``error``, ``state`` and ``iss``.
"""

import time
from typing import Any
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError
from flask import Blueprint, Response, current_app, request

from auth_app import audit
from auth_app.accounts import Accounts
from auth_app.oidc import browser_session, grant_store, pages
from auth_app.oidc.grant_store import BrowserSession
from auth_app.oidc.models import Client, SignedInUser
from auth_app.oidc.server import Provider
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token
from auth_app.routes import client_info
from auth_app.store import find_user_by_id
from authcore.errors import ApiError, InvalidCredentials, InvalidTokenError, TooManyRequests
from authcore.tokens import AccessTokenVerifier

bp = Blueprint("oidc", __name__, url_prefix="/auth/oauth2")
MAX_QUERY_CHARS = 4096
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _server() -> AuthorizationServer:
    server: AuthorizationServer = current_app.extensions["oidc_server"]
    return server


def _provider() -> Provider:
    provider: Provider = current_app.extensions["oidc_provider"]
    return provider


def _secure() -> bool:
    return _provider().issuer.startswith("https://")


def _same_origin() -> bool:
    """A form post comes from our own page: its Origin is the issuer's (login CSRF)."""
    issuer = urlsplit(_provider().issuer)
    return request.headers.get("Origin", "") == f"{issuer.scheme}://{issuer.netloc}"


def _redirect_error(error: OAuth2Error) -> Response:
    """An OAuth error as authlib words it: a redirect (with iss) to a checked URI, else our HTML page."""
    if error.state is None and error.redirect_uri:
        error.state = request.values.get("state")  # returned untouched, as with authlib's own errors
    response: Response = _server().handle_error_response(None, error)
    if response.status_code == 302 and response.location:
        response.location = add_params_to_uri(response.location, {"iss": _provider().issuer})
        return response
    return pages.error_page(error.error or "invalid_request", error.description or "the request is invalid.")


def _signed_in(browser: BrowserSession) -> SignedInUser | None:
    with _provider().pool.connection() as conn:
        user = find_user_by_id(conn, browser.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return SignedInUser(user.id, user.username, user.email, bool(user.email_verified))


def _login_step(
    action: str, client_name: str, redirect_uri: str
) -> tuple[BrowserSession | None, Response | None]:
    """Handle a posted login or second-factor form: the new browser session, or the page to show."""
    accounts: Accounts = current_app.extensions["accounts"]
    form = request.form
    try:
        if form.get("step") == "mfa":
            factors = current_app.extensions["second_factors"]
            tokens = factors.finish_login(form.get("mfa_token", ""), form.get("code", ""), client_info())
        else:
            tokens = accounts.login(form.get("username", ""), form.get("password", ""), client_info())
    except TooManyRequests:
        return None, pages.login_page(
            action, client_name, redirect_uri, "Too many attempts. Try again later.", 429
        )
    except InvalidCredentials:
        if form.get("step") == "mfa":
            return None, pages.login_page(
                action, client_name, redirect_uri, "The sign-in expired. Log in again.", 401
            )
        return None, pages.login_page(action, client_name, redirect_uri, "Wrong username or password.", 401)
    except ApiError:  # a wrong code or one of the wrong shape: shown on the form again
        if form.get("step") != "mfa":
            raise
        token = form.get("mfa_token", "")
        return None, pages.second_factor_page(action, token, redirect_uri, "That code is not valid.", 401)
    if "mfa_required" in tokens:
        return None, pages.second_factor_page(action, tokens["mfa_token"], redirect_uri)
    verifier: AccessTokenVerifier = current_app.extensions["oidc_verifier"]
    session_id = verifier.verify(tokens["access_token"]).session_id
    if session_id is None:  # a login's token always names its session
        raise InvalidCredentials()
    lifetime = int(tokens["refresh_expires_in"])
    response_holder = Response()
    browser_session.start(_provider().pool, session_id, lifetime, response_holder, _secure())
    current = browser_session.current_by_session(_provider().pool, session_id)
    request.environ["oidc.set_cookie"] = response_holder.headers.getlist("Set-Cookie")
    return current, None


def _with_cookie(response: Response) -> Response:
    for header in request.environ.get("oidc.set_cookie", []):
        response.headers.add("Set-Cookie", header)
    return response


def _max_age_exceeded(browser: BrowserSession) -> bool:
    raw = request.values.get("max_age")
    if raw is None:
        return False
    return time.time() - browser.auth_time.timestamp() > int(raw)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    """The authorization endpoint: log in, second factor, consent, then the code (or an error)."""
    return _with_cookie(_authorize())


# Returned untouched to the client, never put into authlib's error texts: any text goes.
ANY_TEXT = frozenset({"state", "nonce", "password", "username", "code", "mfa_token"})


def plain_parameters() -> bool:
    """Every protocol parameter is printable ASCII (RFC 6749 Appendix A: VSCHAR).

    authlib puts some values (response_type, grant_type) into its error
    descriptions and refuses to build one with other characters (a
    ValueError, not an OAuth error): such a request stops here.
    ``state`` and ``nonce`` are echoed untouched, and the login form's
    fields are ours, so any text is allowed in them.
    """
    return all(
        all(" " <= ch <= "~" for ch in key + ("" if key in ANY_TEXT else value))
        for source in (request.args, request.form)
        for key, values in source.lists()
        for value in values
    )


def _authorize() -> Response:
    if len(request.query_string) > MAX_QUERY_CHARS:
        return pages.error_page("invalid_request", "the request is too long.")
    if not plain_parameters():
        return pages.error_page("invalid_request", "a parameter holds characters it may not.")
    if request.method == "POST" and not _same_origin():
        return pages.error_page("invalid_request", "the form was not sent from this site.", 403)
    server, provider = _server(), _provider()
    action = request.full_path if request.query_string else request.path
    browser = browser_session.current(provider.pool, request)
    fresh = False
    step = request.form.get("step") if request.method == "POST" else None
    try:
        grant = server.get_consent_grant(end_user=_signed_in(browser) if browser else None)
        client: Client = grant.client
        scopes = (grant.request.scope or "").split()
        if "openid" not in scopes:
            raise InvalidScopeError("The 'openid' scope is required.", redirect_uri=grant.redirect_uri)
        max_age = request.values.get("max_age")
        if max_age is not None and (not max_age.isdigit() or len(max_age) > 9):
            raise InvalidRequestError(
                "'max_age' must be a number of seconds.", redirect_uri=grant.redirect_uri
            )
    except OAuth2Error as error:
        return _redirect_error(error)
    prompts = (request.values.get("prompt") or "").split()
    if step in ("login", "mfa"):
        browser, page = _login_step(action, client.row.name, grant.redirect_uri)
        if page is not None:
            return page
        fresh = True
    user = _signed_in(browser) if browser else None
    needs_login = user is None or (not fresh and ("login" in prompts or _max_age_exceeded(browser)))  # type: ignore[arg-type]
    if needs_login:
        if "none" in prompts:
            from authlib.oidc.core.errors import LoginRequiredError

            return _redirect_error(
                LoginRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)
            )
        return pages.login_page(action, client.row.name, grant.redirect_uri)
    assert browser is not None and user is not None
    with provider.pool.connection() as conn:
        allowed = grant_store.consented_scopes(conn, user.id, client.client_id)
    needs_consent = not client.row.first_party and (not set(scopes) <= allowed or "consent" in prompts)
    if step == "consent":
        if request.form.get("decision") != "allow":
            with provider.pool.connection() as conn, conn.transaction():
                audit.record(
                    conn,
                    "oidc_consent_denied",
                    actor=user.id,
                    target=user.id,
                    details={"client_id": client.client_id},
                )
            grant.request.browser_session = browser
            denied: Response = server.create_authorization_response(grant=grant, grant_user=None)
            return denied
        with provider.pool.connection() as conn, conn.transaction():
            grant_store.save_consent(conn, user.id, client.client_id, scopes)
        needs_consent = False
    if needs_consent:
        if "none" in prompts:
            from authlib.oidc.core.errors import ConsentRequiredError

            return _redirect_error(
                ConsentRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)
            )
        return pages.consent_page(action, client.row.name, scopes, grant.redirect_uri)
    grant.request.browser_session = browser
    response: Response = server.create_authorization_response(grant=grant, grant_user=user)
    return response


@bp.post("/token")
def token() -> Response:
    """The token endpoint: a code (with PKCE) or a refresh token for tokens; RFC 6749 JSON errors."""
    if not plain_parameters():
        error = InvalidRequestError("A parameter holds characters it may not.")
        refused: Response = _server().handle_error_response(None, error)
        return refused
    if request.form.get("grant_type") == "refresh_token":
        return _refresh()
    response: Response = _server().create_token_response()
    return response


def _refresh() -> Response:
    """Rotate a client's refresh token (the session's own rotation and reuse detection)."""
    server = _server()
    oauth_request = server.create_oauth2_request(request)
    try:
        client: Client = server.authenticate_client(oauth_request, CLIENT_AUTH_METHODS)
        presented = request.form.get("refresh_token", "")
        if not looks_like_refresh_token(presented):
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.")
        with _provider().pool.connection() as conn:
            owner = grant_store.session_client(conn, hash_refresh_token(presented))
        if owner != client.client_id:
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.")
        try:
            tokens = _provider().sessions.refresh(presented, client_info())
        except InvalidTokenError:
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.") from None
    except OAuth2Error as error:
        response: Response = server.handle_error_response(oauth_request, error)
        return response
    audit.record_alone(
        _provider().pool,
        "oidc_token_issued",
        details={"client_id": client.client_id, "grant_type": "refresh_token"},
    )
    body: dict[str, Any] = {
        "access_token": tokens["access_token"],
        "token_type": "Bearer",
        "expires_in": tokens["expires_in"],
        "refresh_token": tokens["refresh_token"],
    }
    answer: Response = server.handle_response(
        200, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    )
    return answer
