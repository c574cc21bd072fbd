"""What one access-token verification costs on this machine, per JWT_ALG, with and without the cache.

api_service verifies with ``authcore.tokens.AccessTokenVerifier`` (PyJWT:
header, signature, claims) behind ``authcore.token_cache.VerifiedTokenCache``,
which checks each exact token string once per worker. This times both in
the bench process, on one core, for HS256, EdDSA (Ed25519) and ES256 (P-256)
with keys made the way the runner makes them, so the table can say what a
signature check costs next to what a whole request costs.
"""

import secrets
import time

from authcore import keys as key_sets
from authcore.settings import SigningKey, TokenSettings
from authcore.token_cache import VerifiedTokenCache
from authcore.tokens import AccessTokenVerifier, issue_access_token

ALGORITHMS = (key_sets.HS256, key_sets.EDDSA, key_sets.ES256)
ISSUER, AUDIENCE = "authstack", "authstack-api"


def _settings(algorithm: str) -> tuple[TokenSettings, TokenSettings]:
    """The signer's settings and a verifier's (public keys only, as api_service holds)."""
    common = {"issuer": ISSUER, "audience": AUDIENCE, "access_ttl": 900, "refresh_ttl": 3600}
    if algorithm == key_sets.HS256:
        hs = TokenSettings(keys=(SigningKey("bench", secrets.token_bytes(48)),), **common)
        return hs, hs
    private = key_sets.generate_key(algorithm)
    public = key_sets.AsymmetricKey(private.kid, algorithm, private.public_key, None)
    return (
        TokenSettings(keys=(), algorithm=algorithm, asymmetric_keys=(private,), **common),
        TokenSettings(keys=(), algorithm=algorithm, asymmetric_keys=(public,), **common),
    )


def _per_call_us(call, token: str, seconds: float) -> float:
    """Microseconds per ``call(token)``, timed over about ``seconds``."""
    count, started = 0, time.perf_counter()
    while True:
        for _ in range(100):
            call(token)
        count += 100
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / count * 1e6


def measure(seconds: float = 0.5) -> dict[str, dict[str, float]]:
    """Per algorithm: one full verification and one cache hit, in microseconds (median of 3)."""
    figures = {}
    for algorithm in ALGORITHMS:
        signer, verifier_settings = _settings(algorithm)
        token, _claims = issue_access_token(
            signer, user_id="u1", username="bench", session_id="s1", roles=["user"]
        )
        verifier = AccessTokenVerifier(verifier_settings)
        cache = VerifiedTokenCache(verifier, leeway=verifier_settings.leeway)
        full = sorted(_per_call_us(verifier.verify, token, seconds / 3) for _ in range(3))[1]
        cached = sorted(_per_call_us(cache.verify, token, seconds / 3) for _ in range(3))[1]
        figures[algorithm] = {"verify_us": full, "cache_hit_us": cached}
    return figures
