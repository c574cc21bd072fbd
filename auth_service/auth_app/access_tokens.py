"""Personal access tokens: creating, listing and revoking them, and keeping their Redis entries true.

Every change runs in one Postgres transaction under the owner's row lock
(FOR UPDATE, like every revoking change: creations and role changes are
ordered by the row) and writes the token's Redis entry before commit, as
``auth_app.revoking`` does for the revocation list: if Redis fails, the
transaction rolls back (503) and the two never disagree.
"""

import re
import time
import uuid
from typing import Any, cast

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import access_token_store as token_store
from auth_app import audit, store
from auth_app.factors import store as factor_store
from auth_app.validation import normalise_username
from authcore import pats
from authcore.errors import Conflict, Forbidden, InvalidTokenError, NotFound, ValidationFailed
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims

MAX_LIVE_TOKENS = 50
MAX_NAME_CHARS = 64
# No control character (C0, DEL, C1), and something besides spaces. The same
# pattern is in the OpenAPI document, so what it calls valid is accepted here.
TOKEN_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*")
DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 1, 365


def second_factor_satisfied(conn: Connection, user_id: uuid.UUID, claims: AccessClaims) -> bool:
    """A user with a second factor must have used it in this session (``mfa`` in the token's amr)."""
    return "mfa" in claims.amr or not factor_store.has_enabled_factor(conn, user_id)


def redis_entries(rows: list[token_store.EntryRow]) -> list[tuple[str, str, int]]:
    """The (key, identity, seconds to live) Redis entries of tokens: the roles given *and* still held."""
    now = time.time()
    return [
        (
            pats.entry_key(row.token_hash),
            pats.identity_value(
                token_id=str(row.id),
                user_id=str(row.user_id),
                username=row.username,
                roles=sorted(set(row.given_roles) & set(row.user_roles)),
                email_verified=row.email_verified,
                created_at=round(row.created_at, 3),
                expires_at=int(row.expires_at),
            ),
            pats.entry_ttl(int(row.expires_at), now),
        )
        for row in rows
    ]


def token_body(row: token_store.TokenRow) -> dict[str, Any]:
    """A token as the list routes show it (never the secret nor its hash)."""
    return {
        "id": str(row.id),
        "name": row.name,
        "roles": list(row.roles),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def validated_request(body: dict[str, Any], current_roles: list[str]) -> tuple[str, int, list[str]]:
    """(name, days, roles) of a creation request, or ``ValidationFailed`` (422) naming each bad field."""
    problems = {}
    name = body.get("name")
    if not isinstance(name, str) or not name:
        problems["name"] = "is required"
    elif len(name) > MAX_NAME_CHARS or not TOKEN_NAME.fullmatch(name):
        problems["name"] = f"must be 1-{MAX_NAME_CHARS} characters, not only spaces, no control characters"
    days = body.get("expires_in_days", DEFAULT_DAYS)
    # JSON Schema's integer: 30 and 30.0 alike (a JSON number with no fraction).
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        problems["expires_in_days"] = f"must be a whole number of days, {MIN_DAYS}-{MAX_DAYS}"
    roles = body.get("roles", current_roles)
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        problems["roles"] = "must be a list of role names"
    elif not set(roles) <= set(current_roles):
        problems["roles"] = "must be roles you hold"
    if problems:
        raise ValidationFailed(fields=problems)
    # No problems: name passed the isinstance(name, str) check above.
    return cast(str, name).strip(" "), days, sorted(set(roles))


class AccessTokens:
    """The personal-access-token operations of one auth_service worker."""

    def __init__(self, pool: ConnectionPool, revocations: RevocationList):
        self._pool = pool
        self._revocations = revocations

    def create(self, claims: AccessClaims, body: dict[str, Any]) -> dict[str, Any]:
        """Create a token for the caller; the 201 body, the only time the token is shown."""
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn, conn.transaction():
            # FOR UPDATE: two creations at once count each other (the limit
            # holds), and a role removal or disable is wholly before or after.
            user = store.lock_user_for_revoking(conn, user_id)
            if user is None or user.disabled_at is not None:
                raise InvalidTokenError()
            if not second_factor_satisfied(conn, user_id, claims):
                raise Forbidden("Sign in with your second factor to create a personal access token.")
            name, days, roles = validated_request(body, user.roles)
            if token_store.count_live(conn, user_id) >= MAX_LIVE_TOKENS:
                raise Conflict(
                    "too_many_tokens", f"You have {MAX_LIVE_TOKENS} live tokens; revoke one first."
                )
            token = pats.new_token()
            row = token_store.insert(conn, user_id, name, pats.token_hash(token), roles, days)
            audit.record(
                conn,
                "pat_created",
                target=user_id,
                session=claims.session_id,
                details={"token_id": str(row.id), "name": name, "roles": roles, "expires_in_days": days},
            )
            entry = token_store.entry_of_token(conn, row.id)
            if entry is None:  # the row was inserted just now, with its user locked and enabled
                raise RuntimeError("a personal access token inserted in this transaction has no entry")
            self._revocations.write_entries(redis_entries([entry]))
        body = token_body(row)
        del body["last_used_at"]
        return {**body, "token": token}

    def list(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """The user's unexpired tokens."""
        with self._pool.connection() as conn:
            return [token_body(row) for row in token_store.list_live(conn, user_id)]

    def revoke(self, user_id: uuid.UUID, token_id: str) -> None:
        """Delete one of the user's tokens: refused from the next request on; 404 if not theirs."""
        token_uuid = _uuid_or_404(token_id)
        with self._pool.connection() as conn, conn.transaction():
            store.lock_user_for_revoking(conn, user_id)
            digest = token_store.delete_one(conn, user_id, token_uuid)
            if digest is None:
                raise NotFound("No such token.")
            details = {"token_id": str(token_uuid), "reason": "revoked"}
            audit.record(conn, "pat_revoked", target=user_id, details=details)
            self._revocations.delete_entries([pats.entry_key(digest)])

    def user_id_of(self, username: str) -> uuid.UUID:
        """The id of a user named in an admin route, or 404."""
        with self._pool.connection() as conn:
            user = store.find_user_by_login(conn, username=normalise_username(username), email=None)
        if user is None:
            raise NotFound("No such user.")
        return user.id


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such token.") from None


def end_all(conn: Connection, revocations: RevocationList, user_id: uuid.UUID, reason: str) -> None:
    """Delete every token of the user and its entry (the caller holds the row lock)."""
    ended = token_store.delete_all(conn, user_id)
    if ended:
        audit.record(
            conn,
            "pat_revoked",
            target=user_id,
            details={"token_ids": [str(token_id) for token_id, _ in ended], "reason": reason},
        )
        revocations.delete_entries([pats.entry_key(digest) for _, digest in ended])


def rewrite_all(conn: Connection, revocations: RevocationList, user_id: uuid.UUID) -> None:
    """Rewrite the entries of the user's tokens from the rows as they are now (roles changed)."""
    revocations.write_entries(redis_entries(token_store.entries_of_user(conn, user_id)))
