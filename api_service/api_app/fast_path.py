"""``GET /api/v1/me`` answered before Flask when the token is good: the hot path kept thin.

Every API client calls /me, and Flask's per-request machinery (request
context, routing, hooks, response object) costs several times what the
token check itself costs (see bench/PERFORMANCE.md). This WSGI layer
answers the one common case, a valid unrevoked token, with the same
``Authenticator`` and the same JSON body as the Flask route. Everything
else (no or bad token, revoked, other methods or paths) falls through to
Flask unchanged, so every error is still shaped in one place; only a
Redis failure is answered here (the same 503), so a stalled Redis is not
waited for twice.
"""

import logging

import orjson
import redis

from authcore.bearer import Authenticator, token_from_header
from authcore.errors import ApiError, Unavailable, error_response
from authcore.tokens import AccessClaims, InvalidToken

log = logging.getLogger(__name__)

ME_PATH = "/api/v1/me"


def me_body(claims: AccessClaims) -> dict:
    """The /api/v1/me answer (docs/API.md), from the verified claims."""
    return {
        "id": claims.user_id,
        "username": claims.username,
        "roles": list(claims.roles),
        "session_id": claims.session_id,
        "expires_at": claims.expires_at,
    }


class MeFastPath:
    """WSGI middleware: a good token on ``GET /api/v1/me`` is answered without Flask."""

    def __init__(self, app, authenticator: Authenticator):
        self._app = app
        self._authenticator = authenticator

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != ME_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self._app(environ, start_response)
        try:
            token = token_from_header(environ.get("HTTP_AUTHORIZATION"))
            claims = self._authenticator.verifier.verify(token)
        except (ApiError, InvalidToken):
            return self._app(environ, start_response)
        try:
            revoked = self._authenticator.revocations.is_revoked(claims)
        except redis.exceptions.NoPermissionError as exc:
            # The ACL user lacks a right it needs: a deployment mistake, loud in the log.
            log.error("refused by a dependency (the service's role lacks the right): %s", type(exc).__name__)
            return error_response(Unavailable())(environ, start_response)
        except redis.RedisError as exc:
            log.warning("dependency unavailable: %s", type(exc).__name__)
            return error_response(Unavailable())(environ, start_response)
        if revoked:
            return self._app(environ, start_response)
        body = orjson.dumps(me_body(claims))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
