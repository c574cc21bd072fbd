"""Apply the ordered ``migrations/*.sql`` files, each once, under an advisory lock.

Run as ``python -m auth_app.migrate`` before the service starts. Two replicas
running it together serialise on the lock; the second finds nothing to do.
It connects as the schema's owner (``MIGRATION_DATABASE_URL`` with
``POSTGRES_MIGRATION_PASSWORD``), the one role that may create and alter
tables; the service's own role may only read and write rows.

A migration may need Python for a step SQL can't do (Unicode case folding):
a line ``--! step: NAME`` in the file runs ``migration_steps.NAME(conn)``
there, between the SQL before and after it, in the file's transaction.
"""

import logging
import os
import sys
from pathlib import Path

import psycopg

from auth_app import migration_steps
from auth_app.migration_steps import MigrationRefused
from auth_app.settings import migration_conninfo
from authcore.settings import SettingsError

log = logging.getLogger("auth_app.migrate")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# An arbitrary constant naming "schema migrations of this service" for pg_advisory_lock.
ADVISORY_LOCK_ID = 7_245_001


def pending_migrations(applied: set[str]) -> list[Path]:
    """The migration files not applied yet, in name order."""
    return [path for path in sorted(MIGRATIONS_DIR.glob("*.sql")) if path.name not in applied]


STEP_MARKER = "--! step: "


def apply_file(conn: psycopg.Connection, path: Path) -> None:
    """Run one migration file: its SQL, and any Python step it names where it names it."""
    sql: list[str] = []
    for line in path.read_text().splitlines(keepends=True):
        if not line.startswith(STEP_MARKER):
            sql.append(line)
            continue
        if "".join(sql).strip():
            conn.execute("".join(sql))
        sql = []
        getattr(migration_steps, line[len(STEP_MARKER) :].strip())(conn)
    if "".join(sql).strip():
        conn.execute("".join(sql))


def migrate(database_url: str) -> list[str]:
    """Apply every pending migration; return the names applied."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            done = []
            for path in pending_migrations(applied):
                # Each file and its bookkeeping row commit together or not at all.
                with conn.transaction():
                    apply_file(conn, path)
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
                done.append(path.name)
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_ID,))


def main() -> int:
    """Command-line entry point."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        database_url = migration_conninfo(os.environ)
    except SettingsError as exc:
        log.error("invalid settings: %s", exc)
        return 2
    try:
        done = migrate(database_url)
    except psycopg.OperationalError as exc:
        log.error("cannot reach the database: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return 1
    except MigrationRefused as exc:
        log.error("migration refused, nothing of it applied: %s", exc)
        return 1
    except psycopg.errors.InsufficientPrivilege:
        log.error("the database refused a migration: connect as the schema owner (MIGRATION_DATABASE_URL)")
        return 1
    log.info("applied %d migration(s): %s", len(done), ", ".join(done) or "none pending")
    return 0


if __name__ == "__main__":
    sys.exit(main())
