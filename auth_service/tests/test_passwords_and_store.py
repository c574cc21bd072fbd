"""bcrypt handling and the SQL of store.py against the test stack's Postgres."""

import os
import secrets
import statistics
import threading
import time
import uuid

import pytest
from psycopg import errors as pg_errors

from auth_app import store
from auth_app.migrate import migrate, pending_migrations
from auth_app.passwords import check_password, hash_password
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_app.settings import migration_conninfo
from authcore.errors import TooManyRequests


def test_hash_and_check():
    hashed = hash_password("correct horse", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert check_password("correct horse", hashed, rounds=4) is True
    assert check_password("wrong horse", hashed, rounds=4) is False


def test_unknown_user_check_is_false_but_still_runs_bcrypt():
    assert check_password("anything", None, rounds=4) is False


def test_unknown_user_costs_the_same_as_a_wrong_password():
    """The dummy check is a real bcrypt at the same cost: medians within 10% at cost 10."""
    hashed = hash_password("correct horse", rounds=10)
    known, unknown = [], []
    for _ in range(7):
        for target, password_hash in ((known, hashed), (unknown, None)):
            started = time.perf_counter()
            assert check_password("wrong horse", password_hash, rounds=10) is False
            target.append(time.perf_counter() - started)
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert abs(known_median - unknown_median) <= 0.10 * max(known_median, unknown_median), (known, unknown)


def test_a_busy_worker_refuses_a_second_bcrypt_at_once():
    """One bcrypt at a time per worker: the next one is 429 now, not a queue."""
    hashed = hash_password("correct horse", rounds=12)
    started = threading.Event()

    def slow_check():
        started.set()
        check_password("correct horse", hashed, rounds=12)

    worker = threading.Thread(target=slow_check)
    worker.start()
    started.wait()
    time.sleep(0.02)
    with pytest.raises(TooManyRequests) as refused:
        check_password("correct horse", hashed, rounds=12)
    assert refused.value.headers["Retry-After"] == "1"
    worker.join()
    assert check_password("correct horse", hashed, rounds=12) is True  # free again


def test_over_long_password_never_matches_and_never_raises():
    hashed = hash_password("x" * 72, rounds=4)
    assert check_password("x" * 73, hashed, rounds=4) is False


def test_refresh_tokens_are_random_and_stored_hashed():
    token, stored = new_refresh_token()
    assert looks_like_refresh_token(token)
    assert stored == hash_refresh_token(token) and token.encode() not in stored
    assert new_refresh_token()[0] != token
    assert not looks_like_refresh_token("eyJhbGciOi.x.y")


def test_migrations_are_applied_once():
    # As the schema owner, the one role that may (the runner already applied them).
    assert migrate(migration_conninfo(os.environ)) == []
    assert pending_migrations(set()) and all(p.suffix == ".sql" for p in pending_migrations(set()))


def _user(conn, name=None):
    name = name or "t-" + secrets.token_hex(5)
    return store.insert_user(conn, name, f"{name}@example.com", "hash")


def test_insert_and_find_user(conn):
    user = _user(conn)
    assert store.find_user_by_login(conn, username=user.username, email=None) == user
    assert store.find_user_by_login(conn, username=None, email=user.email.upper()) == user
    assert user.roles == [] and user.disabled_at is None


def test_duplicate_username_and_email_raise_unique_violation(conn):
    user = _user(conn)
    with pytest.raises(pg_errors.UniqueViolation) as error, conn.transaction():
        store.insert_user(conn, user.username, "other@example.com", "hash")
    assert error.value.diag.constraint_name == "users_username_key"
    with pytest.raises(pg_errors.UniqueViolation) as error, conn.transaction():
        store.insert_user(conn, "t-" + secrets.token_hex(5), user.email.upper(), "hash")
    assert error.value.diag.constraint_name == "users_email_lower_key"


def test_nul_characters_never_reach_postgres_but_would_fail_there(conn):
    # Why validation refuses NUL: Postgres text can't hold it.
    with pytest.raises(pg_errors.DataError) as error, conn.transaction():
        store.insert_user(conn, "t-nul\x00", "nul@example.com", "hash")
    assert error.type is not None


def test_session_ends_once_and_only_for_its_user(conn):
    user, other = _user(conn), _user(conn)
    session_id = uuid.uuid4()
    store.insert_session(conn, session_id, user.id, new_refresh_token()[1], 3600, "ua", "127.0.0.1")
    assert store.end_session(conn, session_id, other.id, "logout") is False
    assert store.end_session(conn, session_id, user.id, "logout") is True
    assert store.end_session(conn, session_id, user.id, "logout") is False


def test_prune_deletes_expired_refresh_tokens_and_old_sessions_only(conn):
    user = _user(conn)
    old, recent, live = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for session_id in (old, recent, live):
        store.insert_session(conn, session_id, user.id, new_refresh_token()[1], 3600, "ua", "127.0.0.1")
    conn.execute("UPDATE sessions SET ended_at = now() - interval '8 days' WHERE id = %s", (old,))
    conn.execute("UPDATE sessions SET ended_at = now() - interval '1 hour' WHERE id = %s", (recent,))
    conn.execute(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = %s", (recent,)
    )
    store.prune(conn, keep_ended_seconds=7 * 24 * 3600)
    remaining = {row[0] for row in conn.execute("SELECT id FROM sessions WHERE user_id = %s", (user.id,))}
    assert remaining == {recent, live}
    query = "SELECT session_id FROM refresh_tokens WHERE session_id = ANY(%s)"
    assert {row[0] for row in conn.execute(query, ([old, recent, live],))} == {live}
