"""What authenticating a request needs of a token verifier, as a type.

``authcore.bearer.Authenticator`` takes anything that verifies an access
token: ``tokens.AccessTokenVerifier`` itself, or ``token_cache.VerifiedTokenCache``
in front of one. Both already have this shape; neither needs to inherit it.
"""

from typing import Protocol

from authcore.tokens import AccessClaims


class TokenVerifier(Protocol):
    """Anything with ``verify(token) -> AccessClaims`` that raises ``tokens.InvalidToken``."""

    def verify(self, token: str) -> AccessClaims:
        """The token's verified claims, or raise ``InvalidToken``."""
        ...
