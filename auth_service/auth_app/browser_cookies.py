"""Cookie mode for browsers: the refresh token in a cookie no script can read, and its CSRF defence.

A client asks for cookie mode with the header ``X-Auth-Mode: cookie`` on
login, refresh, logout and logout-all. Then the refresh token travels only
in the ``authstack_refresh`` cookie (``HttpOnly``, ``SameSite=Strict``,
``Path=/auth/``, ``Secure`` over TLS), never in a JSON body. Without the
header nothing changes: JSON bodies carry the token and the cookie is
never read.

Because a browser sends the cookie by itself, a cookie-mode request is
honoured only when it proves it comes from one of our own pages:

- the custom header itself: a cross-site form can't set it, and a
  cross-origin ``fetch`` with it needs a CORS preflight nothing here
  answers (``OPTIONS`` is 405), so the browser never sends the request;
- and the browser's word on where the request comes from: ``Sec-Fetch-Site``
  must be ``same-origin`` and ``Origin`` must be the origin the request was
  sent to, whichever of the two the browser sent (at least one).

Ports don't make a site: a page on another port of the same host is
same-site, so ``SameSite=Strict`` alone would let it send the cookie. The
two checks above are what stops it.
"""

from typing import Any

from flask import Request, Response

from auth_app.sessions import ClientInfo, Sessions
from authcore.errors import ApiError, InvalidTokenError, ValidationFailed, error_response, json_response

MODE_HEADER = "X-Auth-Mode"
COOKIE_NAME = "authstack_refresh"
# Only the auth routes need it (refresh reads it; login, logout and logout-all
# set or clear it): the API and the page never see it.
COOKIE_PATH = "/auth/"


class CsrfFailed(ApiError):
    """A cookie-mode request that does not come from one of this site's own pages."""

    status, code, message = 403, "csrf_failed", "Cookie-mode requests are only taken from this site's pages."


def cookie_mode(request: Request) -> bool:
    """Whether the request asks for cookie mode; raise ``CsrfFailed`` if it does from elsewhere."""
    mode = request.headers.get(MODE_HEADER)
    if mode is None:
        return False
    if mode.strip().lower() != "cookie":
        # A client that asks for a mode we don't have must not get another silently.
        raise ValidationFailed(fields={MODE_HEADER: "must be cookie, or left out"})
    _require_same_origin(request)
    return True


def _require_same_origin(request: Request) -> None:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if fetch_site is None and origin is None:
        raise CsrfFailed("Cookie-mode requests need an Origin or Sec-Fetch-Site header.")
    if fetch_site is not None and fetch_site.strip().lower() != "same-origin":
        raise CsrfFailed()
    if origin is not None and origin.strip().lower() != own_origin(request):
        raise CsrfFailed()


def own_origin(request: Request) -> str:
    """The origin the browser sent the request to: scheme, host and port.

    nginx passes the browser's ``Host`` (with its port) as
    ``X-Forwarded-Host`` and the scheme as ``X-Forwarded-Proto`` (which
    ProxyFix turns into ``request.scheme``); it overwrites both, so a client
    can't choose them.
    """
    host = request.headers.get("X-Forwarded-Host") or request.host
    return f"{request.scheme}://{host}".lower()


def token_response(tokens: dict[str, Any], request: Request) -> Response:
    """The token response of cookie mode: the refresh token moves from the body into the cookie."""
    body = {name: value for name, value in tokens.items() if name != "refresh_token"}
    response = json_response(body)
    response.set_cookie(
        COOKIE_NAME,
        tokens["refresh_token"],
        max_age=tokens["refresh_expires_in"],
        path=COOKIE_PATH,
        secure=request.scheme == "https",
        httponly=True,
        samesite="Strict",
    )
    return response


def clear_cookie(response: Response, request: Request) -> Response:
    """Make the browser forget the refresh cookie; return ``response``."""
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, secure=request.scheme == "https", httponly=True, samesite="Strict"
    )
    return response


def refresh_from_cookie(request: Request, sessions: Sessions, client: ClientInfo) -> Response:
    """Rotate the cookie's refresh token; a refused one also clears the cookie (it can't work again)."""
    try:
        presented = request.cookies.get(COOKIE_NAME)
        if not presented:
            raise InvalidTokenError("No refresh cookie: log in again.")
        tokens = sessions.refresh(presented, client)
    except InvalidTokenError as error:
        return clear_cookie(error_response(error), request)
    return token_response(tokens, request)
