"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ``/auth/oauth2/logout``.

With a valid ``id_token_hint`` (one of our ID tokens, expired or not) the
provider's browser session ends (its session, through ``revoking``) and the
browser goes to ``post_logout_redirect_uri`` if that client registered it
exactly, with ``state``; otherwise a page says the person is logged out.
Without a hint nothing ends on a GET (another site could start it): the
page offers a Log out button, a same-origin POST.
"""

import warnings
from typing import Any
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, Response, current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from auth_app.oidc import browser_session, client_store, pages
from auth_app.oidc.server import Provider
from auth_app.revoking import end_session

bp = Blueprint("oidc_logout", __name__, url_prefix="/auth/oauth2")


def _provider() -> Provider:
    provider: Provider = current_app.extensions["oidc_provider"]
    return provider


def _hint_claims(hint: str) -> dict[str, Any] | None:
    """The claims of one of our ID tokens (signature and issuer checked; expiry not: it may be old)."""
    provider = _provider()
    if not hint or len(hint) > 8192:
        return None
    key_set = KeySet.import_key_set({"keys": provider.keys.public_jwks()})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EdDSA's deprecation notice
            claims = jwt.decode(hint, key_set, algorithms=list(provider.keys.algorithms)).claims
    except (JoseError, ValueError, TypeError):
        return None
    if claims.get("iss") != provider.issuer:
        return None
    return dict(claims)


def _end_browser_session(response: Response, user_id: str | None) -> Response:
    provider = _provider()
    browser = browser_session.current(provider.pool, request)
    if browser is not None and (user_id is None or str(browser.user_id) == user_id):
        with provider.pool.connection() as conn, conn.transaction():
            end_session(conn, provider.revocations, browser.session_id, browser.user_id, "oidc_logout")
    browser_session.clear(response, provider.issuer.startswith("https://"))
    return response


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """End the provider's browser session and send the person back to the client, if it registered where."""
    provider = _provider()
    if request.method == "POST":
        issuer = urlsplit(provider.issuer)
        if request.headers.get("Origin", "") != f"{issuer.scheme}://{issuer.netloc}":
            return pages.error_page("invalid_request", "the form was not sent from this site.", 403)
        return _end_browser_session(pages.logged_out_page(), None)
    claims = _hint_claims(request.args.get("id_token_hint", ""))
    if claims is None:
        return pages.logout_confirm_page(request.path)
    audience = claims.get("aud")
    client_id = audience[0] if isinstance(audience, list) and audience else audience
    target = request.args.get("post_logout_redirect_uri")
    response = pages.logged_out_page()
    if target and isinstance(client_id, str):
        with provider.pool.connection() as conn:
            client = client_store.find_client(conn, client_id)
        if client is not None and target in client.post_logout_redirect_uris:
            state = request.args.get("state")
            response = Response(status=302)
            response.headers["Location"] = add_params_to_uri(target, {"state": state}) if state else target
    return _end_browser_session(response, str(claims.get("sub")))
