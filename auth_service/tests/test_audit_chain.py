"""The append-only audit trail on the real Postgres: the service role's rights, the hash chain, pruning."""

import threading
import uuid

import psycopg
import pytest
from psycopg import errors as pg_errors

from auth_app.audit import store as audit_store
from auth_app.audit.chain import verify


def _event(action: str = "probe_event", **overrides) -> dict:
    return {
        "action": action,
        "result": "success",
        "actor_id": None,
        "target_id": uuid.uuid4(),
        "session_id": None,
        "client_ip": "192.0.2.1",
        "user_agent": "probe",
        "request_id": "",
        "details": {"n": 1},
        **overrides,
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET client_ip = 'forged' WHERE id = (SELECT max(id) FROM audit_events)",
        "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
        "TRUNCATE audit_events",
        "SELECT count(*) FROM schema_migrations",
        "DELETE FROM schema_migrations WHERE name LIKE '009%'",
        "INSERT INTO schema_migrations (name) VALUES ('999_probe.sql')",
        "INSERT INTO audit_chain_anchor (seq, row_hash) VALUES (1, '\\x00')",
        "UPDATE audit_chain_anchor SET seq = seq + 1",
    ],
)
def test_the_service_role_may_not_rewrite_the_trail_or_the_migrations(conn, statement):
    with pytest.raises(pg_errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


def test_the_service_role_may_append_and_read(conn):
    row = audit_store.insert_event(conn, _event())
    assert audit_store.find_events(conn, user_id=row.target_id) == [row]


def test_pruning_keeps_at_least_a_day(conn):
    with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
        conn.execute("SELECT prune_audit_events(0)")
    assert audit_store.prune_events(conn, 1) >= 0


def test_an_insert_cannot_choose_its_place_in_the_chain_or_its_time(conn):
    audit_store.insert_event(conn, _event())
    conn.execute(
        "INSERT INTO audit_events (action, result, occurred_at, seq, prev_hash, row_hash)"
        " VALUES ('probe_event', 'success', now() - interval '400 days', 1, '\\x00', '\\x00')"
    )
    last = conn.execute(
        "SELECT seq, occurred_at > now() - interval '1 minute' FROM audit_events ORDER BY seq DESC LIMIT 2"
    ).fetchall()
    assert last[0][0] == last[1][0] + 1 and last[0][1]
    assert verify(conn).intact


def _insert_committed(database_url: str, count: int, failures: list) -> None:
    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            for _ in range(count):
                with connection.transaction():
                    audit_store.insert_event(connection, _event("probe_concurrent"))
    except Exception as exc:  # reported by the test
        failures.append(exc)


def test_concurrent_inserts_make_one_unbroken_chain(database_url):
    failures: list = []
    threads = [
        threading.Thread(target=_insert_committed, args=(database_url, 20, failures)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with psycopg.connect(database_url) as connection:
        verdict = verify(connection)
    assert verdict.intact, verdict.body()
    assert verdict.checked >= 120


def test_a_changed_row_is_the_first_broken_link(owner_conn):
    rows = [audit_store.insert_event(owner_conn, _event()) for _ in range(3)]
    assert verify(owner_conn).intact
    owner_conn.execute("UPDATE audit_events SET details = '{\"n\": 2}' WHERE id = %s", (rows[1].id,))
    broken = verify(owner_conn).first_broken
    assert broken["id"] == str(rows[1].id) and broken["problem"] == "row_changed"


def test_a_removed_row_breaks_the_link_after_it(owner_conn):
    rows = [audit_store.insert_event(owner_conn, _event()) for _ in range(3)]
    owner_conn.execute("DELETE FROM audit_events WHERE id = %s", (rows[1].id,))
    broken = verify(owner_conn).first_broken
    assert broken["id"] == str(rows[2].id) and broken["problem"] == "seq_gap"


def test_pruning_deletes_the_oldest_and_the_chain_goes_on_from_its_anchor(owner_conn):
    audit_store.insert_event(owner_conn, _event())
    # Everything so far is made old (which breaks those rows' hashes: pruning takes them all).
    owner_conn.execute("UPDATE audit_events SET occurred_at = occurred_at - interval '400 days'")
    newest_old = owner_conn.execute("SELECT max(seq), count(*) FROM audit_events").fetchone()
    assert audit_store.prune_events(owner_conn, 365) == newest_old[1]
    assert owner_conn.execute("SELECT seq FROM audit_chain_anchor").fetchone()[0] == newest_old[0]
    fresh = audit_store.insert_event(owner_conn, _event())
    verdict = verify(owner_conn)
    assert verdict.intact, verdict.body()
    assert verdict.checked == 1 and verdict.head["id"] == str(fresh.id)
    # The pruning function runs as a role that may delete and nothing more.
    owner = owner_conn.execute(
        "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'prune_audit_events'"
    ).fetchone()[0]
    assert owner == "authstack_audit_prune"
