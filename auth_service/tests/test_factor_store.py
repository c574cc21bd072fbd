"""The second-factor SQL on the real Postgres: single use is the database's job."""

import secrets

from auth_app import store
from auth_app.factors import store as factor_store


def _user(conn):
    name = "f-" + secrets.token_hex(5)
    return store.insert_user(conn, name, f"{name}@example.com", "hash")


def test_a_totp_step_is_taken_once_and_never_an_older_one(conn):
    user = _user(conn)
    assert factor_store.put_pending_totp(conn, user.id, b"sealed")
    assert not factor_store.use_totp_step(conn, user.id, 100)  # pending: no code counts yet
    assert factor_store.confirm_totp(conn, user.id, 100)
    assert not factor_store.put_pending_totp(conn, user.id, b"other")  # on: no silent replacement
    assert not factor_store.use_totp_step(conn, user.id, 100)
    assert not factor_store.use_totp_step(conn, user.id, 99)
    assert factor_store.use_totp_step(conn, user.id, 101)
    assert not factor_store.use_totp_step(conn, user.id, 101)
    assert factor_store.delete_totp(conn, user.id) is True
    assert factor_store.find_totp(conn, user.id) is None


def test_a_recovery_code_is_used_once_and_new_ones_void_the_old(conn):
    user = _user(conn)
    factor_store.replace_recovery_codes(conn, user.id, [b"a" * 32, b"b" * 32])
    assert factor_store.recovery_codes_left(conn, user.id) == 2
    assert factor_store.use_recovery_code(conn, user.id, b"a" * 32)
    assert not factor_store.use_recovery_code(conn, user.id, b"a" * 32)
    assert factor_store.recovery_codes_left(conn, user.id) == 1
    other = _user(conn)
    assert not factor_store.use_recovery_code(conn, other.id, b"b" * 32)  # another user's
    factor_store.replace_recovery_codes(conn, user.id, [b"c" * 32])
    assert not factor_store.use_recovery_code(conn, user.id, b"b" * 32)
    assert factor_store.recovery_codes_left(conn, user.id) == 1


def test_a_login_step_is_used_once_dies_of_failures_and_is_pruned(conn):
    user = _user(conn)
    factor_store.insert_login_step(conn, b"t" * 32, user.id, b"f" * 32, "login:x", 300)
    factor_store.insert_login_step(conn, b"u" * 32, user.id, b"f" * 32, "login:x", 300)
    factor_store.insert_login_step(conn, b"v" * 32, user.id, b"f" * 32, "login:x", -1)  # expired
    assert factor_store.find_login_step(conn, b"v" * 32, 5) is None
    assert factor_store.find_login_step(conn, b"t" * 32, 5).user_id == user.id
    assert not factor_store.use_login_step(conn, b"t" * 32, _user(conn).id, 5)  # bound to its user
    assert factor_store.use_login_step(conn, b"t" * 32, user.id, 5)
    assert not factor_store.use_login_step(conn, b"t" * 32, user.id, 5)
    for _ in range(5):
        factor_store.count_login_step_failure(conn, b"u" * 32)
    assert factor_store.find_login_step(conn, b"u" * 32, 5) is None
    assert factor_store.prune_login_steps(conn) >= 2  # the used one and the expired one
    left = conn.execute("SELECT count(*) FROM mfa_login_tokens WHERE user_id = %s", (user.id,)).fetchone()[0]
    assert left == 1  # the one killed by failures expires later
