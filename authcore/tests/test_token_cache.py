"""Unit tests of the verified-token cache: it saves PyJWT's work, never a check."""

import time

import pytest

from authcore.settings import SigningKey, TokenSettings
from authcore.token_cache import VerifiedTokenCache
from authcore.tokens import AccessTokenVerifier, InvalidToken, issue_access_token

SECRET = b"c" * 16 + b"0123456789abcdef0123"
SETTINGS = TokenSettings(
    keys=(SigningKey("k1", SECRET),), issuer="iss", audience="aud", access_ttl=900, refresh_ttl=3600, leeway=5
)


class CountingVerifier:
    """An ``AccessTokenVerifier`` that counts the verifications it really does."""

    def __init__(self):
        self.inner = AccessTokenVerifier(SETTINGS)
        self.calls = 0

    def verify(self, token):
        self.calls += 1
        return self.inner.verify(token)


def token(now=None):
    return issue_access_token(SETTINGS, user_id="u1", username="alice", session_id="s1", roles=[], now=now)


def test_a_token_is_verified_once_then_served_from_memory():
    verifier = CountingVerifier()
    cache = VerifiedTokenCache(verifier, SETTINGS.leeway)
    good, claims = token()
    assert cache.verify(good) == claims
    assert cache.verify(good) == claims
    assert verifier.calls == 1


def test_a_bad_token_is_never_remembered():
    verifier = CountingVerifier()
    cache = VerifiedTokenCache(verifier, SETTINGS.leeway)
    good, _ = token()
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BA")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            cache.verify(forged)
    assert verifier.calls == 2


def test_a_remembered_token_still_expires(monkeypatch):
    cache = VerifiedTokenCache(CountingVerifier(), SETTINGS.leeway)
    good, claims = token()
    cache.verify(good)
    later = claims.expires_at + SETTINGS.leeway + 1
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken):
        cache.verify(good)


def test_the_table_is_bounded():
    verifier = CountingVerifier()
    cache = VerifiedTokenCache(verifier, SETTINGS.leeway, max_entries=3)
    tokens = [token()[0] for _ in range(5)]
    for each in tokens:
        cache.verify(each)
    assert len(cache._claims) <= 3
    cache.verify(tokens[-1])
    assert verifier.calls == 5
