"""A local state folder of the superuser era, converted in place instead of refused.

Before least privilege, the runner made the cluster with the services' role
(``authstack``, password ``POSTGRES_PASSWORD``) as its bootstrap superuser,
and every table belonged to it. Today a superuser only the runner knows
(``postgres``, password in the state folder) administers the cluster, the
service role may read and write rows, and the migration role owns the
schema. Converting: the bootstrap role is renamed to the superuser's name
with a fresh password (through a temporary superuser, as a session can't
rename its own role); the runner then makes the two roles as on every start
(stores/postgres/roles.sql), and the schema's objects still owned by a
superuser pass to the migration role (stores/postgres/give_schema.sql; the
postgres image of compose runs the same files on an old volume,
stores/postgres/authstack-upgrade.sh). Every step can run again: a start
interrupted half-way finishes the job the next time.
"""

import secrets
import time
from pathlib import Path

import psycopg
from psycopg import sql

TEMPORARY_ROLE = "authstack_upgrade"


def _connect(port: int, user: str, password: str, dbname: str, deadline: float) -> psycopg.Connection | None:
    """A connection as ``user``; None if Postgres refuses the password; waits while it is starting."""
    while True:
        try:
            return psycopg.connect(
                host="127.0.0.1",
                port=port,
                user=user,
                password=password,
                dbname=dbname,
                autocommit=True,
                connect_timeout=2,
            )
        except psycopg.OperationalError as exc:
            if "authentication failed" in str(exc):
                return None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def rename_bootstrap_superuser(
    port: int, old_user: str, old_password: str, superuser: str, superuser_password: str, timeout: float = 30
) -> None:
    """Make the cluster's bootstrap superuser ``old_user`` into ``superuser`` with a new password."""
    deadline = time.monotonic() + timeout
    done = _connect(port, superuser, superuser_password, "postgres", deadline)
    if done is not None:  # converted already (or a start stopped right after the rename)
        with done:
            done.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(TEMPORARY_ROLE)))
        return
    old = _connect(port, old_user, old_password, "postgres", deadline)
    if old is None:
        raise RuntimeError(
            f"the superuser-era cluster refused {old_user!r} with POSTGRES_PASSWORD: "
            "keep the .env the stack was made with"
        )
    temporary_password = secrets.token_urlsafe(32)
    with old:
        old.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(TEMPORARY_ROLE)))
        old.execute(
            sql.SQL("CREATE ROLE {} SUPERUSER LOGIN PASSWORD {}").format(
                sql.Identifier(TEMPORARY_ROLE), sql.Literal(temporary_password)
            )
        )
    temporary = _connect(port, TEMPORARY_ROLE, temporary_password, "postgres", deadline)
    if temporary is None:
        raise RuntimeError("the temporary superuser could not log in")
    with temporary:
        temporary.execute(
            sql.SQL("ALTER ROLE {} RENAME TO {}").format(sql.Identifier(old_user), sql.Identifier(superuser))
        )
        temporary.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(superuser), sql.Literal(superuser_password)
            )
        )
    renamed = _connect(port, superuser, superuser_password, "postgres", deadline)
    if renamed is None:
        raise RuntimeError(f"the renamed superuser {superuser!r} could not log in")
    with renamed:
        renamed.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(TEMPORARY_ROLE)))


# The same SQL the postgres image runs on an existing compose volume.
GIVE_SCHEMA_SQL = Path(__file__).resolve().parent.parent / "stores" / "postgres" / "give_schema.sql"
_MOVED = "moved "


def give_schema_to(conn: psycopg.Connection, owner: str) -> list[str]:
    """Every relation and function of schema public still owned by a superuser passes to ``owner``.

    Runs stores/postgres/give_schema.sql (tables first: a table takes its
    identity sequences and indexes with it). Returns what moved.
    """
    moved: list[str] = []

    def collect(notice: psycopg.errors.Diagnostic) -> None:
        text = notice.message_primary or ""
        if text.startswith(_MOVED):
            moved.append(text[len(_MOVED) :])

    conn.add_notice_handler(collect)
    try:
        conn.execute("SELECT set_config('authstack.schema_owner', %s, false)", (owner,))
        conn.execute(GIVE_SCHEMA_SQL.read_text())
    finally:
        conn.remove_notice_handler(collect)
    return moved
