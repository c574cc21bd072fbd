"""The SQL of OIDC clients: raw, parameterised, inside the caller's transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection
from psycopg.rows import class_row


@dataclass(frozen=True)
class ClientRow:
    """One registered client; ``secret_hash`` is None for public clients."""

    client_id: str
    name: str
    client_type: str
    secret_hash: bytes | None
    first_party: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    id_token_signed_response_alg: str
    created_at: datetime


_SELECT = (
    "SELECT client_id, name, client_type, secret_hash, first_party, redirect_uris,"
    " post_logout_redirect_uris, id_token_signed_response_alg, created_at FROM oauth2_clients "
)


def insert_client(
    conn: Connection,
    client_id: str,
    name: str,
    client_type: str,
    secret_hash: bytes | None,
    first_party: bool,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    id_token_signed_response_alg: str,
) -> ClientRow:
    """Register a client; the stored row."""
    with conn.cursor(row_factory=class_row(ClientRow)) as cur:
        cur.execute(
            "INSERT INTO oauth2_clients (client_id, name, client_type, secret_hash, first_party,"
            " redirect_uris, post_logout_redirect_uris, id_token_signed_response_alg)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING client_id, name, client_type, secret_hash, first_party, redirect_uris,"
            " post_logout_redirect_uris, id_token_signed_response_alg, created_at",
            (
                client_id,
                name,
                client_type,
                secret_hash,
                first_party,
                redirect_uris,
                post_logout_redirect_uris,
                id_token_signed_response_alg,
            ),
        )
        row = cur.fetchone()
    if row is None:  # INSERT ... RETURNING always returns the row
        raise TypeError("the insert returned no row")
    return row


def find_client(conn: Connection, client_id: str) -> ClientRow | None:
    """The client ``client_id``, or None (also for text Postgres can't hold: a NUL)."""
    if "\x00" in client_id:
        return None
    with conn.cursor(row_factory=class_row(ClientRow)) as cur:
        cur.execute(_SELECT + "WHERE client_id = %s", (client_id,))
        return cur.fetchone()


def list_clients(conn: Connection) -> list[ClientRow]:
    """Every client, oldest first."""
    with conn.cursor(row_factory=class_row(ClientRow)) as cur:
        cur.execute(_SELECT + "ORDER BY created_at, client_id")
        return cur.fetchall()


def active_sessions_of_client(conn: Connection, client_id: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(session id, user id) of the client's sessions that have not ended."""
    rows = conn.execute(
        "SELECT id, user_id FROM sessions WHERE client_id = %s AND ended_at IS NULL ORDER BY user_id",
        (client_id,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def delete_client(conn: Connection, client_id: str) -> bool:
    """Remove the client (its codes and consents go with it); False if there was none."""
    cur = conn.execute("DELETE FROM oauth2_clients WHERE client_id = %s", (client_id,))
    return cur.rowcount == 1
