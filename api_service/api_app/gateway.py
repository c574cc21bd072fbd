"""The gateway's verify endpoint: nginx's ``auth_request`` asks it about every request to APP_PREFIX.

``GET /_gateway/verify`` is answered here, before Flask, as thinly as the
protected routes (``dispatch``): the same ``Authenticator.authenticate_header``
(verify + one Redis MGET), then the identity as response headers that nginx
copies onto the request it passes to the upstream. nginx reaches it only
as a subrequest (an ``internal`` location); nothing routes it from outside.

nginx's ``auth_request`` understands 2xx, 401 and 403 only (anything else
becomes its own 500), and never shows the subrequest's body, so each
refusal also names its error code in ``X-Auth-Error``; the nginx template
turns that into the stack's JSON error (docs/API.md "Gateway mode").
"""

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import redis
from flask import Response

from authcore.bearer import Authenticator, require_second_factor
from authcore.errors import (
    ApiError,
    Forbidden,
    dependency_down,
    dependency_refused,
    error_response,
)
from authcore.tokens import AccessClaims

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

VERIFY_PATH = "/_gateway/verify"
# Set by nginx on the subrequest from APP_ROLE; absent when no role is needed.
REQUIRED_ROLE_ENVIRON = "HTTP_X_REQUIRED_ROLE"
# Set by nginx on the subrequest from APP_REQUIRE_MFA: "1" demands a token with a second factor.
REQUIRE_MFA_ENVIRON = "HTTP_X_REQUIRE_MFA"
# Identity headers are the gateway's to set. nginx replaces the known ones
# on the way to the upstream but can't remove unknown names, so any that a
# client sent is refused here.
RESERVED_ENVIRON_PREFIX = "HTTP_X_AUTH_"
ERROR_HEADER = "X-Auth-Error"


class ReservedHeader(ApiError):
    """The client sent an ``X-Auth-*`` header: only the gateway may set those."""

    status, code, message = 400, "reserved_header", "X-Auth-* request headers are reserved for the gateway."


def identity_headers(claims: AccessClaims) -> list[tuple[str, str]]:
    """What the upstream learns about the caller (docs/API.md "Gateway mode")."""
    headers = [
        ("X-Auth-User-Id", claims.user_id),
        ("X-Auth-Username", claims.username),
        ("X-Auth-Roles", ",".join(sorted(claims.roles))),
    ]
    # A personal access token belongs to no session and proved no factor:
    # the upstream gets neither header.
    if claims.session_id is not None:
        headers.append(("X-Auth-Session-Id", claims.session_id))
    if claims.amr:
        headers.append(("X-Auth-Amr", ",".join(claims.amr)))
    return headers


class GatewayVerify:
    """WSGI middleware answering ``GET /_gateway/verify`` for nginx's ``auth_request``."""

    def __init__(self, wsgi_app: "WSGIApplication", authenticator: Authenticator):
        self._app = wsgi_app
        self._authenticator = authenticator

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        if environ.get("PATH_INFO") != VERIFY_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self._app(environ, start_response)
        try:
            if any(key.startswith(RESERVED_ENVIRON_PREFIX) for key in environ):
                raise ReservedHeader()
            claims = self._authenticator.authenticate_header(environ.get("HTTP_AUTHORIZATION"))
            role = environ.get(REQUIRED_ROLE_ENVIRON)
            if role and role not in claims.roles:
                raise Forbidden()
            if environ.get(REQUIRE_MFA_ENVIRON) == "1":
                require_second_factor(claims)
        except ApiError as error:
            return refusal(error)(environ, start_response)
        except redis.exceptions.NoPermissionError as exc:
            # The ACL user lacks a right it needs: a deployment mistake, loud in the log.
            return refusal(dependency_refused(exc))(environ, start_response)
        except redis.RedisError as exc:
            return refusal(dependency_down(exc))(environ, start_response)
        start_response("200 OK", [*identity_headers(claims), ("Content-Length", "0")])
        return [b""]


def refusal(error: ApiError) -> Response:
    """The JSON error, named in ``X-Auth-Error``; a 400 travels as 403 (auth_request knows no 400)."""
    response = error_response(error)
    response.headers[ERROR_HEADER] = error.code
    if error.status == 400:
        response.status_code = 403
    return response
