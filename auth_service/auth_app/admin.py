"""Create the first admin: ``python -m auth_app.admin USERNAME EMAIL``.

The password is read from standard input (one line), or asked for twice
when standard input is a terminal. Never baked into an image or migration.
"""

import getpass
import os
import sys

import psycopg
from psycopg import errors as pg_errors

from auth_app import audit, store
from auth_app.mail import store as mail_store
from auth_app.passwords import hash_password
from auth_app.settings import database_conninfo
from auth_app.validation import validated_signup
from authcore.errors import ValidationFailed
from authcore.settings import SettingsError, read


def read_password() -> str:
    """The new admin's password, from a prompt or from standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new admin: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: list[str]) -> int:
    """Create an admin user; exit 0 on success, non-zero with a message otherwise."""
    if len(argv) != 2:
        print("usage: python -m auth_app.admin USERNAME EMAIL  (password on stdin)", file=sys.stderr)
        return 2
    try:
        database_url = database_conninfo(os.environ)
        rounds = read(os.environ, "BCRYPT_ROUNDS")
        fields = validated_signup({"username": argv[0], "email": argv[1], "password": read_password()})
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationFailed as exc:
        # ValidationFailed from validated_signup always names its fields.
        problems = ", ".join(f"{name} {problem}" for name, problem in (exc.fields or {}).items())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
            password_hash = hash_password(fields["password"], rounds)
            with conn.transaction():
                user = store.insert_user(
                    conn, fields["username"], fields["email"], password_hash, roles=("admin",)
                )
                audit.record(conn, "user_created", target=user.id, details={"roles": ["admin"]})
                # The operator typed the address: it counts as verified, so that
                # REQUIRE_VERIFIED_EMAIL can't lock the first admin out.
                mail_store.mark_email_verified(conn, user.id, user.email)
    except pg_errors.UniqueViolation:
        print("error: that username or email is taken", file=sys.stderr)
        return 1
    except psycopg.OperationalError:
        print("error: cannot reach the database", file=sys.stderr)
        return 1
    print(f"created admin {user.username} ({user.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
