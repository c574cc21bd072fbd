"""OIDC clients: the registration rules, and creating, listing and deleting clients.

A client's secret is 256 bits from ``secrets``, shown once and kept as its
SHA-256 (a slow hash buys nothing against a value nobody can guess; the
check is constant-time). Redirect URIs are compared exactly, so they are
checked here once: absolute, no fragment, ``https`` (``http`` only on a
loopback host, as for ``PUBLIC_URL``).
"""

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit
from auth_app.oidc import client_store
from auth_app.oidc.client_store import ClientRow
from auth_app.revoking import end_session
from authcore.errors import NotFound, ValidationFailed
from authcore.revocation import RevocationList

CONFIDENTIAL, PUBLIC = "confidential", "public"
MAX_NAME_CHARS = 100
MAX_URIS = 10
MAX_URI_CHARS = 2000
LOOPBACK_HOSTS = ("localhost",)


def hash_client_secret(secret: str) -> bytes:
    """The stored form of a client secret."""
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(client: ClientRow, presented: str) -> bool:
    """True if ``presented`` is the confidential client's secret (constant-time)."""
    if client.secret_hash is None:
        return False
    return hmac.compare_digest(client.secret_hash, hash_client_secret(presented))


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uri_problem(uri: object) -> str | None:
    """Why ``uri`` can't be a redirect URI, or None."""
    if not isinstance(uri, str) or not uri:
        return "must be non-empty strings"
    if len(uri) > MAX_URI_CHARS or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in uri):
        return f"must be URIs of at most {MAX_URI_CHARS} visible characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "must be absolute URIs"
    if parts.scheme not in ("https", "http") or not host:
        return "must be absolute http(s) URIs"
    if parts.fragment or "#" in uri:
        return "must not have a fragment"
    if parts.scheme == "http" and not _loopback(host):
        return "must be https (http only on localhost, 127.0.0.1 or ::1)"
    return None


def _uri_list(body: Mapping[str, object], name: str, required: bool, problems: dict[str, str]) -> list[str]:
    value = body.get(name, None if required else [])
    if not isinstance(value, list) or (required and not value) or len(value) > MAX_URIS:
        problems[name] = f"must be a list of {'1' if required else '0'}-{MAX_URIS} URIs"
        return []
    for uri in value:
        problem = uri_problem(uri)
        if problem:
            problems[name] = problem
            return []
    return list(dict.fromkeys(value))


def validated_client(body: Mapping[str, object], algorithms: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a new client from a request body, or 422 naming each bad one."""
    problems: dict[str, str] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS or "\x00" in name:
        problems["name"] = f"must be 1-{MAX_NAME_CHARS} characters"
    client_type = body.get("type")
    if client_type not in (CONFIDENTIAL, PUBLIC):
        problems["type"] = 'must be "confidential" or "public"'
    first_party = body.get("first_party", False)
    if not isinstance(first_party, bool):
        problems["first_party"] = "must be true or false"
    alg = body.get("id_token_signed_response_alg", algorithms[0])
    if alg not in algorithms:
        problems["id_token_signed_response_alg"] = f"must be one of {', '.join(algorithms)}"
    redirect_uris = _uri_list(body, "redirect_uris", True, problems)
    logout_uris = _uri_list(body, "post_logout_redirect_uris", False, problems)
    if problems:
        raise ValidationFailed(fields=problems)
    return {
        "name": str(name).strip(),
        "client_type": client_type,
        "first_party": first_party,
        "id_token_signed_response_alg": alg,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": logout_uris,
    }


def client_body(row: ClientRow) -> dict[str, Any]:
    """A client as the admin routes show it (never its secret or hash)."""
    return {
        "client_id": row.client_id,
        "name": row.name,
        "type": row.client_type,
        "first_party": row.first_party,
        "redirect_uris": row.redirect_uris,
        "post_logout_redirect_uris": row.post_logout_redirect_uris,
        "id_token_signed_response_alg": row.id_token_signed_response_alg,
        "created_at": row.created_at.isoformat(),
    }


def create_client(conn: Connection, fields: dict[str, Any]) -> dict[str, Any]:
    """Register a client from validated fields (in the caller's transaction); its body with the secret."""
    client_id = secrets.token_urlsafe(18)
    secret = secrets.token_urlsafe(32) if fields["client_type"] == CONFIDENTIAL else None
    row = client_store.insert_client(
        conn,
        client_id,
        secret_hash=hash_client_secret(secret) if secret else None,
        **fields,
    )
    audit.record(
        conn,
        "oidc_client_created",
        details={"client_id": client_id, "type": row.client_type, "first_party": row.first_party},
    )
    body = client_body(row)
    if secret is not None:
        body["client_secret"] = secret
    return body


class Clients:
    """Client registration of one auth_service worker."""

    def __init__(self, pool: ConnectionPool, revocations: RevocationList, algorithms: tuple[str, ...]):
        self._pool = pool
        self._revocations = revocations
        self.algorithms = algorithms

    def create(self, body: Mapping[str, object]) -> dict[str, Any]:
        """Register a client; the answer holds a confidential client's secret, once."""
        fields = validated_client(body, self.algorithms)
        with self._pool.connection() as conn, conn.transaction():
            return create_client(conn, fields)

    def list(self) -> list[dict[str, Any]]:
        """Every registered client."""
        with self._pool.connection() as conn:
            return [client_body(row) for row in client_store.list_clients(conn)]

    def delete(self, client_id: str) -> None:
        """Remove a client and end every session it holds; 404 if there is none.

        Each session ends through ``revoking`` (the user's row locked first,
        the revocation list written), so the client's access tokens are
        refused from the next request.
        """
        with self._pool.connection() as conn, conn.transaction():
            if client_store.find_client(conn, client_id) is None:
                raise NotFound("No such client.")
            for session_id, user_id in client_store.active_sessions_of_client(conn, client_id):
                end_session(conn, self._revocations, session_id, user_id, "client_deleted")
            client_store.delete_client(conn, client_id)
            audit.record(conn, "oidc_client_deleted", details={"client_id": client_id})
