"""Python steps of migrations (``--! step: NAME`` in a migration file): what SQL can't do.

Each step runs inside its migration's transaction, as the migration role;
raising ``MigrationRefused`` rolls the whole file back and stops the run.
"""

from collections import defaultdict

import psycopg

from auth_app.validation import normalise_email


class MigrationRefused(Exception):
    """A migration can't be applied to the data as it is; the message says what to fix."""


def fill_email_keys(conn: psycopg.Connection) -> None:
    """Fill ``users.email_key`` with each address's one spelling; refuse if two accounts share one.

    The table is locked by the migration's ALTER TABLE, so no row changes meanwhile.
    """
    owners: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for user_id, username, email in conn.execute("SELECT id, username, email FROM users ORDER BY created_at"):
        owners[normalise_email(email)].append((str(user_id), username, email))
    collisions = {key: accounts for key, accounts in owners.items() if len(accounts) > 1}
    if collisions:
        listing = "; ".join(
            f"{key!r} is the address of "
            + ", ".join(f"{name} ({uid}, typed {typed!r})" for uid, name, typed in accounts)
            for key, accounts in sorted(collisions.items())
        )
        raise MigrationRefused(
            f"{len(collisions)} address(es) belong to more than one account once normalised: {listing}."
            " Change the address of all but one account of each, then migrate again."
        )
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE users SET email_key = %s WHERE id = %s",
            [(key, accounts[0][0]) for key, accounts in owners.items()],
        )
