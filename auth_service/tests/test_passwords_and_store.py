"""bcrypt handling and the SQL of store.py against the test stack's Postgres."""

import itertools
import os
import secrets
import threading
import time
import uuid

import bcrypt
import pytest
from psycopg import errors as pg_errors

from auth_app import store
from auth_app.migrate import migrate, pending_migrations
from auth_app.password_slots import PasswordQueue, ProcessSlots
from auth_app.passwords import check_password, hash_cost, hash_password
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_app.settings import migration_conninfo
from authcore.errors import TooManyRequests
from tests.stack_env import stack_setting


def test_hash_and_check():
    hashed = hash_password("correct horse", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert check_password("correct horse", hashed, rounds=4) is True
    assert check_password("wrong horse", hashed, rounds=4) is False


def test_unknown_user_check_is_false_but_still_runs_bcrypt():
    assert check_password("anything", None, rounds=4) is False


def test_unknown_user_costs_the_same_as_a_wrong_password(monkeypatch):
    """The dummy check is one real bcrypt at the same cost, through the same queue.

    What each check does is recorded (a pass-through wrapper: the real
    bcrypt runs), not how long it took: a timing comparison depends on the
    machine. `make bench` measures the times through the stack at cost 12.
    """
    hashed = hash_password("correct horse", rounds=10)
    checked: list[int | None] = []
    real_checkpw = bcrypt.checkpw

    def recording_checkpw(password: bytes, hashed_password: bytes) -> bool:
        checked.append(hash_cost(hashed_password.decode("ascii")))
        return real_checkpw(password, hashed_password)

    monkeypatch.setattr(bcrypt, "checkpw", recording_checkpw)
    assert check_password("wrong horse", hashed, rounds=10) is False
    assert check_password("wrong horse", None, rounds=10) is False
    # A dummy hash that matched would still be refused: the check is real, the result ignored.
    assert checked == [10, 10], checked


def test_a_check_waits_for_a_busy_slot_while_the_expected_wait_is_short():
    """A burst is served: the second check waits for the first instead of a 429."""
    queue = PasswordQueue(slots=1, deadline=5.0)
    hashed = hash_password("correct horse", rounds=10)
    with queue.turn(0.0):  # measures one check
        bcrypt.checkpw(b"correct horse", hashed.encode())
    running = threading.Event()
    finished = []

    def slow_check():
        with queue.turn(0.0):
            running.set()
            finished.append(bcrypt.checkpw(b"correct horse", hashed.encode()))

    worker = threading.Thread(target=slow_check)
    worker.start()
    running.wait()
    with queue.turn(0.0):
        assert finished == [True]  # it waited for the slot, then got it
    worker.join()


def test_checks_beyond_the_deadline_are_refused_at_once_with_the_wait_to_expect():
    queue = PasswordQueue(slots=1, deadline=1.0)
    queue._record(0.4)  # one check takes 0.4 s here
    asked: list[float] = []

    class RecordingSlots(ProcessSlots):
        """Real slots that note each request for one."""

        def acquire(self, timeout: float) -> object | None:
            asked.append(timeout)
            return super().acquire(timeout)

    # Three real slots, so the holders never wait (or time out) however slow
    # this machine is; the expected wait still counts one slot's pace.
    queue.share_slots(RecordingSlots(3))
    release = threading.Event()

    def hold():
        with queue.turn(0.0):
            release.wait(30)

    holders = [threading.Thread(target=hold) for _ in range(3)]  # 0, 0.4 and 0.8 s expected: admitted
    for holder in holders:
        holder.start()
    give_up = time.monotonic() + 30
    while len(asked) < 3 and time.monotonic() < give_up:
        time.sleep(0.01)
    assert len(asked) == 3, asked
    # Refused at once, not after waiting: it never even asks for a slot.
    with pytest.raises(TooManyRequests) as refused, queue.turn(0.0):
        pass  # 3 ahead x 0.4 s = 1.2 s > 1 s
    assert len(asked) == 3, asked
    assert refused.value.headers["Retry-After"] == "2"  # ceil(1.2)
    release.set()
    for holder in holders:
        holder.join()
    with queue.turn(0.0):
        pass  # the queue drained: admitted again


def test_time_already_queued_before_the_process_counts_against_the_deadline():
    queue = PasswordQueue(slots=1, deadline=2.0)
    queue._record(0.5)
    with queue.turn(1.9):
        pass  # nobody ahead: 1.9 s + 0 s
    with queue.turn(0.0), pytest.raises(TooManyRequests), queue.turn(1.6):
        pass  # 1.6 s already queued + 0.5 s for the check ahead > 2 s


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
    stack_setting("MIGRATION_DATABASE_URL")
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
    assert error.value.diag.constraint_name == "users_email_key"


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
    store.prune(conn, keep_ended_seconds=7 * 24 * 3600, max_lifetime=30 * 24 * 3600)
    remaining = {row[0] for row in conn.execute("SELECT id FROM sessions WHERE user_id = %s", (user.id,))}
    assert remaining == {recent, live}
    query = "SELECT session_id FROM refresh_tokens WHERE session_id = ANY(%s)"
    assert {row[0] for row in conn.execute(query, ([old, recent, live],))} == {live}


def _rotated(conn, user, age: str, ended: bool = False) -> uuid.UUID:
    """A session made ``age`` ago with one used (rotated) refresh token and a fresh one."""
    session_id = uuid.uuid4()
    used = new_refresh_token()[1]
    store.insert_session(conn, session_id, user.id, used, 3600, "ua", "127.0.0.1")
    assert store.use_refresh_token(conn, used) == session_id
    store.rotate_refresh_token(
        conn, session_id, new_refresh_token()[1], 3600, "ua", "127.0.0.1", 10 * 24 * 3600
    )
    conn.execute(
        "UPDATE sessions SET created_at = now() - %s::interval, ended_at = CASE WHEN %s THEN now() END"
        " WHERE id = %s",
        (age, ended, session_id),
    )
    return session_id


def test_prune_deletes_rotated_refresh_tokens_once_their_session_cannot_go_on(conn):
    user = _user(conn)
    live, ended, too_old = (
        _rotated(conn, user, "1 day"),
        _rotated(conn, user, "1 day", True),
        _rotated(conn, user, "11 days"),
    )
    store.prune(conn, keep_ended_seconds=7 * 24 * 3600, max_lifetime=10 * 24 * 3600)
    counts = dict(
        conn.execute(
            "SELECT session_id, count(*) FILTER (WHERE used_at IS NOT NULL) FROM refresh_tokens"
            " WHERE session_id = ANY(%s) GROUP BY session_id",
            ([live, ended, too_old],),
        ).fetchall()
    )
    # The live session keeps its used token (a reuse of it still ends the session).
    assert counts == {live: 1, ended: 0, too_old: 0}


def test_a_session_past_its_maximum_lifetime_cannot_be_refreshed(conn):
    user = _user(conn)
    session_id = uuid.uuid4()
    store.insert_session(conn, session_id, user.id, new_refresh_token()[1], 3600, "ua", "127.0.0.1")
    assert store.lock_active_session(conn, session_id, 3600) is True
    conn.execute("UPDATE sessions SET created_at = now() - interval '2 hours' WHERE id = %s", (session_id,))
    assert store.lock_active_session(conn, session_id, 3600) is False
    assert store.lock_active_session(conn, session_id, 3 * 3600) is True


def test_a_rotation_never_slides_past_the_maximum_lifetime(conn):
    user = _user(conn)
    session_id = uuid.uuid4()
    store.insert_session(conn, session_id, user.id, new_refresh_token()[1], 3600, "ua", "127.0.0.1")
    conn.execute(
        "UPDATE sessions SET created_at = now() - interval '50 minutes' WHERE id = %s", (session_id,)
    )
    rotated = new_refresh_token()[1]
    expires_in = store.rotate_refresh_token(conn, session_id, rotated, 3600, "ua", "ip", 3600)
    assert 0 < expires_in <= 600
    left = conn.execute(
        "SELECT extract(epoch FROM expires_at - now()) FROM refresh_tokens WHERE token_hash = %s", (rotated,)
    ).fetchone()[0]
    assert left <= 600


def test_cutoffs_move_forward_at_least_a_millisecond_and_issue_times_never_precede_them(conn):
    user = _user(conn)
    before = store.token_issue_time_ms(conn, user.id)
    cutoffs = [store.raise_tokens_valid_after(conn, user.id) for _ in range(20)]
    # Strictly after any token issued before, even within one millisecond.
    assert before < cutoffs[0]
    assert all(later > earlier for earlier, later in itertools.pairwise(cutoffs))
    # Twenty cutoffs in a row can run ahead of the clock; a token issued now is still not before them.
    assert store.token_issue_time_ms(conn, user.id) >= cutoffs[-1]
    stored = conn.execute("SELECT tokens_valid_after FROM users WHERE id = %s", (user.id,)).fetchone()[0]
    assert round(stored.timestamp() * 1000) == cutoffs[-1]


def test_a_session_of_a_user_is_found_under_a_share_lock_only_while_active(conn):
    user = _user(conn)
    session_id = uuid.uuid4()
    store.insert_session(conn, session_id, user.id, new_refresh_token()[1], 3600, "ua", "127.0.0.1")
    with conn.transaction():
        assert store.lock_session_user_for_issuing(conn, session_id).id == user.id
        assert store.lock_active_session(conn, session_id, 3600) is True
    store.end_session(conn, session_id, user.id, "logout")
    assert store.lock_active_session(conn, session_id, 3600) is False
    assert store.lock_session_user_for_issuing(conn, uuid.uuid4()) is None
