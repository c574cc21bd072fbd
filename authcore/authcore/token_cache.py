"""A per-process memory of tokens whose signature and claims were already verified.

A client sends the same access token with every request for its whole
lifetime, and verifying it (PyJWT: base64, JSON, HMAC, claim checks) was
half of what an API request cost (bench/PERFORMANCE.md). The result of
verifying one exact token string never changes except by time, so it is
kept here and only the expiry is checked again.

What is never cached: revocation. Every request still asks Redis
(``RevocationList.is_revoked``), so a logout is refused on the next
request. Keyed by the whole token string, which the verifier accepts in
one canonical spelling only, so two spellings of one token can't share or
poison an entry; a token that fails verification is never stored.
"""

import time

from authcore.tokens import AccessClaims, AccessTokenVerifier, InvalidToken

DEFAULT_MAX_ENTRIES = 4096


class VerifiedTokenCache:
    """``verify(token)`` like ``AccessTokenVerifier``, remembering the tokens that passed."""

    def __init__(self, verifier: AccessTokenVerifier, leeway: int, max_entries: int = DEFAULT_MAX_ENTRIES):
        self._verifier = verifier
        self._leeway = leeway
        self._max_entries = max_entries
        self._claims: dict[str, AccessClaims] = {}

    def verify(self, token: str) -> AccessClaims:
        """The token's claims, or raise ``InvalidToken`` (expired ones too, as PyJWT would)."""
        claims = self._claims.get(token)
        if claims is None:
            claims = self._verifier.verify(token)
            if len(self._claims) >= self._max_entries:
                # Dropping everything is cheaper than tracking use, and a full
                # table only means one PyJWT verification per active token again.
                self._claims.clear()
            self._claims[token] = claims
        # PyJWT's rule: expired once exp <= now - leeway.
        elif claims.expires_at <= time.time() - self._leeway:
            self._claims.pop(token, None)
            raise InvalidToken("expired")
        return claims
