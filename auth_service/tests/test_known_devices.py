"""Known devices (NOTIFY_NEW_DEVICE): remembered at each sign-in, forgotten after long disuse."""

import secrets
from contextlib import contextmanager

from auth_app import housekeeping, store
from auth_app.mail import store as mail_store


def _user(conn):
    name = "d-" + secrets.token_hex(5)
    return store.insert_user(conn, name, f"{name}@example.com", "hash")


def _age(conn, user_id, device: bytes, days: int) -> None:
    conn.execute(
        "UPDATE known_devices SET last_seen = now() - make_interval(days => %s)"
        " WHERE user_id = %s AND device_hash = %s",
        (days, user_id, device),
    )


def test_a_device_is_new_once_and_the_first_one_is_no_news(conn):
    user = _user(conn)
    assert mail_store.remember_device(conn, user.id, b"laptop") == (True, False)
    assert mail_store.remember_device(conn, user.id, b"phone") == (True, True)
    assert mail_store.remember_device(conn, user.id, b"laptop") == (False, True)


def test_a_sign_in_renews_a_device_and_only_long_unused_ones_are_forgotten(conn):
    user = _user(conn)
    for device in (b"old", b"renewed", b"recent"):
        mail_store.remember_device(conn, user.id, device)
    _age(conn, user.id, b"old", 200)
    _age(conn, user.id, b"renewed", 200)
    _age(conn, user.id, b"recent", 100)
    assert mail_store.remember_device(conn, user.id, b"renewed") == (False, True)  # used again today
    assert mail_store.forget_unused_devices(conn, unused_days=180) >= 1
    remaining = conn.execute("SELECT device_hash FROM known_devices WHERE user_id = %s", (user.id,))
    assert {bytes(row[0]) for row in remaining} == {b"renewed", b"recent"}
    # A forgotten device is new again at its next sign-in.
    assert mail_store.remember_device(conn, user.id, b"old") == (True, True)


def test_housekeeping_forgets_devices_unused_for_its_period(conn):
    user = _user(conn)
    mail_store.remember_device(conn, user.id, b"kept")
    mail_store.remember_device(conn, user.id, b"forgotten")
    _age(conn, user.id, b"kept", housekeeping.FORGET_DEVICES_AFTER_DAYS - 1)
    _age(conn, user.id, b"forgotten", housekeeping.FORGET_DEVICES_AFTER_DAYS + 1)

    class OneConnection:  # the pass's statements run on the test's connection, rolled back after
        @contextmanager
        def connection(self):
            yield conn

    *_, devices = housekeeping.prune_once(OneConnection())
    assert devices >= 1
    remaining = conn.execute("SELECT device_hash FROM known_devices WHERE user_id = %s", (user.id,))
    assert {bytes(row[0]) for row in remaining} == {b"kept"}
