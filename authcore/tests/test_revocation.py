"""The revocation list against the stack's real Redis (REDIS_URL)."""

import os
import time
import uuid

import pytest
from redis.backoff import NoBackoff

from authcore.redis_client import SOCKET_TIMEOUT_SECONDS, make_redis
from authcore.revocation import RevocationList, session_key, user_cutoff_key
from authcore.tokens import AccessClaims
from tests.stack_env import stack_setting


@pytest.fixture
def redis_client():
    client = make_redis(stack_setting("REDIS_URL"), os.environ.get("REDIS_AUTH_PASSWORD"))
    yield client
    client.close()


@pytest.fixture
def revocations(redis_client):
    return RevocationList(redis_client, access_ttl=900, leeway=10)


def claims(issued_at: float | None = None) -> AccessClaims:
    return AccessClaims(
        user_id=str(uuid.uuid4()),
        username="alice",
        session_id=str(uuid.uuid4()),
        token_id=str(uuid.uuid4()),
        issued_at=time.time() if issued_at is None else issued_at,
        expires_at=int(time.time()) + 900,
        roles=(),
    )


def test_fresh_token_is_not_revoked(revocations):
    assert revocations.is_revoked(claims()) is False


def test_revoked_session_expires_after_token_lifetime_plus_leeway(revocations, redis_client):
    token = claims()
    revocations.revoke_sessions([token.session_id])
    assert revocations.is_revoked(token) is True
    assert 900 + 10 <= redis_client.ttl(session_key(token.session_id)) <= 911


def test_user_cutoff_revokes_only_older_tokens(revocations):
    old = claims(issued_at=1000.123)
    revocations.set_user_cutoff(old.user_id, 1000.124)
    newer = AccessClaims(**{**old.__dict__, "issued_at": 1000.124})
    assert revocations.is_revoked(old) is True
    assert revocations.is_revoked(newer) is False


def test_cutoff_never_moves_backwards(revocations, redis_client):
    token = claims()
    revocations.set_user_cutoff(token.user_id, 2000.5)
    revocations.set_user_cutoff(token.user_id, 1000.5)
    assert float(redis_client.get(user_cutoff_key(token.user_id))) == 2000.5
    assert redis_client.ttl(user_cutoff_key(token.user_id)) > 900


def test_cutoff_now_is_after_any_token_already_issued(revocations):
    issued = claims()
    assert issued.issued_at < revocations.cutoff_now() + 0.001
    revocations.set_user_cutoff(issued.user_id, revocations.cutoff_now())
    assert revocations.is_revoked(issued)


def test_unreachable_redis_raises_instead_of_answering_and_every_wait_is_bounded():
    client = make_redis("redis://127.0.0.1:1/0")
    revocations = RevocationList(client, access_ttl=900, leeway=10)
    with pytest.raises(Exception) as error:
        revocations.is_revoked(claims())
    assert type(error.value).__module__.startswith("redis")
    # How long that took depends on the machine; what bounds it is the client's
    # configuration: short socket timeouts and one immediate retry, no backoff.
    options = client.connection_pool.connection_kwargs
    assert options["socket_timeout"] == options["socket_connect_timeout"] == SOCKET_TIMEOUT_SECONDS <= 0.5
    retry = options["retry"]
    assert retry.get_retries() == 1 and isinstance(retry._backoff, NoBackoff)
