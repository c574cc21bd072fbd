"""One spelling of an address: email_key, its unique index and migration 008, on the real Postgres."""

import secrets
from pathlib import Path

import pytest
from psycopg import errors as pg_errors

from auth_app import store
from auth_app.mail import store as mail_store
from auth_app.migrate import MIGRATIONS_DIR, apply_file
from auth_app.migration_steps import MigrationRefused

MIGRATION_008 = MIGRATIONS_DIR / "008_one_spelling_of_an_address.sql"


def _tag() -> str:
    return secrets.token_hex(4)


def test_the_database_collation_is_reported(conn):
    # The lookups compare email_key with =, bytewise under any deterministic
    # collation: the result must not depend on this (C locally, UTF-8 in the images).
    collation, ctype = conn.execute(
        "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    assert collation and ctype


@pytest.mark.parametrize(
    ("typed", "variant"),
    [
        ("straße-{}@example.com", "STRASSE-{}@example.com"),
        ("alice-{}@example.com", "\uff41\uff4c\uff49\uff43\uff45-{}@example.com"),
        ("café-{}@example.com", "CAFE\u0301-{}@example.com"),
        ("vİctim-{}@example.com", "VI\u0307CTIM-{}@example.com"),
    ],
)
def test_every_spelling_finds_the_account_and_none_may_sign_up_again(conn, typed, variant):
    tag = _tag()
    user = store.insert_user(conn, "t-" + tag, typed.format(tag), "hash")
    assert user.email == typed.format(tag)  # kept as typed, for display and sending
    assert store.find_user_by_login(conn, None, variant.format(tag)).id == user.id
    assert mail_store.recipient_by_email(conn, variant.format(tag)).id == user.id
    assert mail_store.mark_email_verified(conn, user.id, variant.format(tag))
    with pytest.raises(pg_errors.UniqueViolation) as error, conn.transaction():
        store.insert_user(conn, "t-" + _tag(), variant.format(tag), "hash")
    assert error.value.diag.constraint_name == "users_email_key"


def test_dotted_capital_i_is_not_plain_i_whatever_the_collation(conn):
    # Under a UTF-8 collation lower('vİctim') is 'victim': the old lookup found
    # victim's account under a spelling the throttle counted apart.
    tag = _tag()
    victim = store.insert_user(conn, "t-" + tag, f"victim-{tag}@example.com", "hash")
    assert store.find_user_by_login(conn, None, f"vİctim-{tag}@example.com") is None
    assert mail_store.recipient_by_email(conn, f"VİCTIM-{tag}@example.com") is None
    other = store.insert_user(conn, "t-" + _tag(), f"vİctim-{tag}@example.com", "hash")
    assert other.id != victim.id


@pytest.fixture
def pre_008_conn(owner_conn):
    """The schema owner's connection, with the users table as before migration 008; rolled back."""
    owner_conn.execute("ALTER TABLE users DROP COLUMN email_key")
    owner_conn.execute("CREATE INDEX users_email_lower_key ON users (lower(email))")
    return owner_conn


def _old_user(conn, email: str) -> str:
    name = "t-" + _tag()
    conn.execute("INSERT INTO users (username, email, password_hash) VALUES (%s, %s, 'hash')", (name, email))
    return name


def test_migration_008_fills_the_key_of_every_account(pre_008_conn):
    tag = _tag()
    _old_user(pre_008_conn, f"\uff26\uff35\uff2c\uff2c-{tag}@example.com")
    apply_file(pre_008_conn, MIGRATION_008)
    key = pre_008_conn.execute(
        "SELECT email_key FROM users WHERE email = %s", (f"\uff26\uff35\uff2c\uff2c-{tag}@example.com",)
    ).fetchone()[0]
    assert key == f"full-{tag}@example.com"
    assert pre_008_conn.execute("SELECT count(*) FROM users WHERE email_key IS NULL").fetchone()[0] == 0


def test_migration_008_refuses_to_finish_on_collisions_and_lists_them(pre_008_conn):
    tag = _tag()
    first = _old_user(pre_008_conn, f"Straße-{tag}@example.com")
    second = _old_user(pre_008_conn, f"strasse-{tag}@example.com")
    with pytest.raises(MigrationRefused) as refused:
        apply_file(pre_008_conn, MIGRATION_008)
    message = str(refused.value)
    assert f"strasse-{tag}@example.com" in message
    assert first in message and second in message
    assert Path(MIGRATION_008).name.startswith("008_")
