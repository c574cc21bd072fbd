"""Reading ``Authorization: Bearer <token>`` (RFC 6750) and authenticating it."""

from dataclasses import dataclass

from flask import Request

from authcore.errors import InvalidTokenError, MissingToken
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims, AccessTokenVerifier, InvalidToken


def bearer_token(request: Request) -> str:
    """Return the bearer token of the request, or raise ``MissingToken``.

    The scheme is case-insensitive (RFC 7235); exactly one space separates it
    from the token. Tokens in the query string or body are never looked at.
    """
    header = request.headers.get("Authorization")
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
