"""Personal-access-token entries, their reading by api_service and the folding of use, on the real stores.

The Postgres work runs on the test's connection and is rolled back; Redis
keys are unique to each test. Notes go to a stream of the test's own
(``pat-usage-test-…``, written as api_service's Redis user, read and
deleted as auth_service's), so the stack's folding threads never take them.
"""

import os
import secrets
import time
import uuid
from contextlib import contextmanager

import pytest

from auth_app import access_token_store as token_store
from auth_app import access_tokens, store
from auth_app.access_token_usage import fold_once
from authcore import pats
from authcore.errors import InvalidTokenError
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList
from tests.stack_env import stack_setting


@pytest.fixture
def redis_client():
    client = make_redis(stack_setting("REDIS_URL"), os.environ.get("REDIS_AUTH_PASSWORD"))
    yield client
    client.close()


@pytest.fixture
def api_redis_client():
    """api_service's Redis user: the one that may add usage notes (XADD), nothing else of theirs."""
    client = make_redis(stack_setting("API_SERVICE_REDIS_URL"), os.environ.get("REDIS_API_PASSWORD"))
    yield client
    client.close()


@pytest.fixture
def revocations(redis_client):
    return RevocationList(redis_client, access_ttl=900, leeway=10)


@pytest.fixture
def stream(redis_client):
    name = "pat-usage-test-" + secrets.token_hex(6)
    yield name
    redis_client.delete(name)


class OneConnection:
    """A pool of the test's one connection (its work is rolled back after the test)."""

    def __init__(self, conn):
        self._conn = conn

    @contextmanager
    def connection(self):
        yield self._conn


def _user(conn, roles=("auditor", "billing")) -> store.User:
    name = "pat-" + secrets.token_hex(5)
    return store.insert_user(conn, name, f"{name}@example.com", "x", roles=roles)


def _token(conn, user, roles, days=30) -> tuple[str, token_store.TokenRow]:
    token = pats.new_token()
    return token, token_store.insert(conn, user.id, "t", pats.token_hash(token), roles, days)


def test_an_entry_carries_the_roles_given_and_still_held(conn, revocations, redis_client):
    user = _user(conn)
    token, row = _token(conn, user, ["auditor"])
    revocations.write_entries(access_tokens.redis_entries([token_store.entry_of_token(conn, row.id)]))
    reader = pats.AccessTokenReader(revocations, pats.UsageNotes(redis_client))
    claims = reader.authenticate(token)
    assert claims.roles == ("auditor",) and claims.user_id == str(user.id)
    assert claims.session_id is None and claims.amr == () and claims.token_id == str(row.id)
    # The role removed from the user: the rewritten entry drops it.
    store.set_roles(conn, user.id, ["billing"])
    access_tokens.rewrite_all(conn, revocations, user.id)
    assert reader.authenticate(token).roles == ()
    # Ended: the key is gone, the token unknown.
    access_tokens.end_all(conn, revocations, user.id, "user_disabled")
    with pytest.raises(InvalidTokenError):
        reader.authenticate(token)


def test_an_expired_token_is_refused_and_its_late_use_noted(
    conn, revocations, redis_client, api_redis_client, stream
):
    user = _user(conn)
    token = pats.new_token()
    token_id = str(uuid.uuid4())
    value = pats.identity_value(
        token_id=token_id,
        user_id=str(user.id),
        username=user.username,
        roles=[],
        email_verified=False,
        created_at=time.time() - 100,
        expires_at=int(time.time()) - 1,
    )
    revocations.write_entries([(pats.entry_key(pats.token_hash(token)), value, 60)])
    notes = pats.UsageNotes(api_redis_client, stream=stream)
    with pytest.raises(InvalidTokenError):
        pats.AccessTokenReader(revocations, notes).authenticate(token)
    notes.flush()
    [(_, fields)] = redis_client.xrange(stream)
    assert fields["id"] == token_id and fields["expired"] == "1"


def test_unknown_and_misspelt_tokens_are_refused_before_or_at_the_lookup(revocations, redis_client):
    reader = pats.AccessTokenReader(revocations, pats.UsageNotes(redis_client))
    for token in (pats.new_token(), pats.new_token()[:-1] + "A", "pat_x"):
        with pytest.raises(InvalidTokenError):
            reader.authenticate(token)


def test_use_is_noted_once_per_interval_and_folded_into_last_used_at(
    conn, redis_client, api_redis_client, stream
):
    user = _user(conn)
    _, row = _token(conn, user, [])
    _, expired_row = _token(conn, user, [])
    notes = pats.UsageNotes(api_redis_client, stream=stream)
    for _ in range(5):
        notes.note(str(row.id))
    notes.note(str(expired_row.id), expired=True)
    assert notes.flush() == 2
    api_redis_client.xadd(stream, {"junk": "1"})  # a note nobody could read is skipped
    assert fold_once(OneConnection(conn), redis_client, stream=stream) == 3
    assert redis_client.xrange(stream) == []
    [listed_row] = [item for item in token_store.list_live(conn, user.id) if item.id == row.id]
    assert listed_row.last_used_at is not None
    events = conn.execute(
        "SELECT details->>'token_id' FROM audit_events WHERE action = 'pat_expired_use' AND target_id = %s",
        (user.id,),
    ).fetchall()
    assert events == [(str(expired_row.id),)]
    assert fold_once(OneConnection(conn), redis_client, stream=stream) == 0


def test_the_limit_counts_live_tokens_only(conn):
    user = _user(conn)
    _token(conn, user, [])
    _token(conn, user, [])
    conn.execute(
        "UPDATE personal_access_tokens SET expires_at = now() - interval '1 s' WHERE user_id = %s", (user.id,)
    )
    _token(conn, user, [])
    assert token_store.count_live(conn, user.id) == 1
    assert len(token_store.list_live(conn, user.id)) == 1


def _claims_of(user, amr=()):
    from authcore.tokens import AccessClaims

    return AccessClaims(
        user_id=str(user.id),
        username=user.username,
        session_id=str(uuid.uuid4()),
        token_id=str(uuid.uuid4()),
        issued_at=time.time(),
        expires_at=int(time.time()) + 900,
        roles=tuple(user.roles),
        amr=amr,
    )


def test_a_user_with_a_second_factor_must_have_used_it_to_create_a_token(conn, revocations, monkeypatch):
    from auth_app.factors import store as factor_store
    from authcore.errors import Forbidden

    user = _user(conn)
    service = access_tokens.AccessTokens(OneConnection(conn), revocations)
    # Without any factor (all users on this version), a password session may create one.
    created = [service.create(_claims_of(user), {"name": "plain"})]
    assert created[0]["roles"] == ["auditor", "billing"]
    monkeypatch.setattr(factor_store, "has_enabled_factor", lambda _conn, user_id: user_id == user.id)
    with pytest.raises(Forbidden):
        service.create(_claims_of(user), {"name": "no second factor"})
    created.append(service.create(_claims_of(user, amr=("pwd", "mfa")), {"name": "with it"}))
    # The rows roll back with the test; their entries go now.
    revocations.delete_entries([pats.entry_key(pats.token_hash(item["token"])) for item in created])
