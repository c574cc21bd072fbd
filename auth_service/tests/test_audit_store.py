"""The audit table: events written with the caller's transaction, paged, pruned by age."""

import uuid

from auth_app import audit
from auth_app.audit import store as audit_store


def _event(conn, action="authn_login_fail", target=None):
    audit.record(conn, action, result=audit.FAILURE, target=target, details={"reason": "bad_password"})


def test_an_event_rolls_back_with_its_transaction(conn):
    target = uuid.uuid4()
    try:
        with conn.transaction():
            _event(conn, target=target)
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    assert audit_store.find_events(conn, user_id=target) == []
    with conn.transaction():
        _event(conn, target=target)
    assert [row.action for row in audit_store.find_events(conn, user_id=target)] == ["authn_login_fail"]


def test_pruning_deletes_the_events_older_than_the_retention(owner_conn):
    # As the schema owner: the service may not back-date an event (migration 009).
    target = uuid.uuid4()
    _event(owner_conn, action="user_created", target=target)
    _event(owner_conn, target=target)
    owner_conn.execute(
        "UPDATE audit_events SET occurred_at = now() - interval '40 days'"
        " WHERE target_id = %s AND action = 'user_created'",
        (target,),
    )
    assert audit_store.prune_events(owner_conn, keep_days=30) >= 1
    assert [row.action for row in audit_store.find_events(owner_conn, user_id=target)] == ["authn_login_fail"]


def test_keyset_pages_and_filters(conn):
    target = uuid.uuid4()
    for _ in range(5):
        _event(conn, target=target)
    _event(conn, action="user_disabled", target=target)
    everything = audit_store.find_events(conn, user_id=target)
    assert len(everything) == 6
    first = audit_store.find_events(conn, user_id=target, limit=4)
    rest = audit_store.find_events(conn, user_id=target, limit=4, before_id=first[-1].id)
    assert [row.id for row in first + rest] == [row.id for row in everything]
    only = audit_store.find_events(conn, user_id=target, action="user_disabled")
    assert [row.action for row in only] == ["user_disabled"]
    assert audit_store.find_events(conn, user_id=target, since=everything[0].occurred_at) != []
    assert audit_store.find_events(conn, user_id=target, until=everything[-1].occurred_at) == []
