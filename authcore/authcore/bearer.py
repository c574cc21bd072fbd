"""Reading ``Authorization: Bearer <token>`` (RFC 6750) and authenticating it."""

from dataclasses import dataclass
from functools import wraps

from flask import Request, current_app, g, request

from authcore.errors import Forbidden, InvalidTokenError, MissingToken
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims, AccessTokenVerifier, InvalidToken


def bearer_token(request: Request) -> str:
    """Return the bearer token of the request, or raise ``MissingToken``/``InvalidTokenError``.

    Tokens in the query string or body are never looked at.
    """
    return token_from_header(request.headers.get("Authorization"))


def token_from_header(header: str | None) -> str:
    """The token of an ``Authorization`` header value, or raise ``MissingToken``/``InvalidTokenError``.

    The scheme is case-insensitive (RFC 7235); exactly one space separates it
    from the token.
    """
    if header is None:
        raise MissingToken()
    scheme, sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not sep:
        raise MissingToken("Use the Authorization: Bearer <token> scheme.")
    if not token or token != token.strip() or " " in token:
        raise InvalidTokenError()
    return token


@dataclass(frozen=True)
class Authenticator:
    """Verifies a request's access token, then checks the revocation list."""

    verifier: AccessTokenVerifier
    revocations: RevocationList

    def authenticate(self, request: Request) -> AccessClaims:
        """Return the caller's verified, unrevoked claims, or raise a 401/503 error."""
        try:
            claims = self.verifier.verify(bearer_token(request))
        except InvalidToken:
            raise InvalidTokenError() from None
        # A RedisError propagates and becomes 503: we fail closed.
        if self.revocations.is_revoked(claims):
            raise InvalidTokenError()
        return claims


def require_token(role: str | None = None):
    """Route decorator: a valid, unrevoked access token (carrying ``role`` if given).

    The claims are left in ``g.claims``. The app keeps its ``Authenticator``
    in ``app.extensions["authenticator"]``.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.claims = current_app.extensions["authenticator"].authenticate(request)
            if role is not None and role not in g.claims.roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator
