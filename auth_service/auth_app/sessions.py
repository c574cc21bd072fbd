"""Sessions: opening them at login, rotating refresh tokens, listing and ending them.

Refresh tokens rotate on every use. Presenting one that was already used
means it was copied: the whole session is ended. Two concurrent refreshes
with one token are the same event seen twice (a conditional UPDATE lets
exactly one win); the loser's token is then "already used", so the session
is ended too. We chose the strict reading: a client that retries a refresh
with the same token is indistinguishable from a thief racing its owner.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit, store
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_app.revoking import cut_off_user, end_all_sessions, end_reused_session, end_session, log_out
from authcore import metrics
from authcore.errors import InvalidCredentials, InvalidTokenError, NotFound
from authcore.revocation import RevocationList
from authcore.settings import TokenSettings
from authcore.tokens import AccessClaims, issue_access_token

MAX_USER_AGENT_CHARS = 256
DEFAULT_MAX_LIFETIME = 30 * 24 * 3600  # SESSION_MAX_LIFETIME
# RFC 8176: signed in with a password alone.
AMR_PASSWORD = ("pwd",)


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, as nginx saw it."""

    user_agent: str
    ip: str

    @property
    def short_user_agent(self) -> str:
        """The user agent, cut to what we store."""
        return self.user_agent[:MAX_USER_AGENT_CHARS]


class CredentialsChanged(InvalidCredentials):
    """The password hash changed while it was being checked; ``current`` is the user now."""

    def __init__(self, current: store.User):
        super().__init__()
        self.current = current


class _OpenNothing(Exception):
    """Raised inside a transaction to roll back a session being opened."""


class Sessions:
    """Session operations of one auth_service worker."""

    def __init__(
        self,
        tokens: TokenSettings,
        pool: ConnectionPool,
        revocations: RevocationList,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        mfa_required_roles: frozenset[str] = frozenset(),
    ):
        self._tokens = tokens
        self._max_lifetime = max_lifetime
        self._pool = pool
        self._revocations = revocations
        self._mfa_required_roles = mfa_required_roles

    def open(
        self,
        checked: store.User,
        client: ClientInfo,
        amr: tuple[str, ...] = AMR_PASSWORD,
        second_factor: Callable[[Connection, store.User], None] | None = None,
    ) -> dict[str, Any]:
        """Start a session for a user whose password was just checked; the token response.

        The user's row is locked and read again first: if the user was
        disabled or the password changed while bcrypt ran, the login is
        refused with the same 401, and the token carries the roles of this
        read, never of the one before bcrypt. ``second_factor`` (the second
        login step) runs next, under that lock and in this transaction: it
        raises to open nothing, and what it consumed is then rolled back.
        """
        session_id = uuid.uuid4()
        refresh_token, refresh_hash = new_refresh_token()
        refresh_ttl = min(self._tokens.refresh_ttl, self._max_lifetime)
        with self._pool.connection() as conn, conn.transaction():
            user = store.lock_user_for_issuing(conn, checked.id)
            if user is None or user.disabled_at is not None:
                raise InvalidCredentials()
            if user.password_hash != checked.password_hash:
                raise CredentialsChanged(user)
            if second_factor is not None:
                second_factor(conn, user)
            store.insert_session(
                conn,
                session_id,
                user.id,
                refresh_hash,
                refresh_ttl,
                client.short_user_agent,
                client.ip,
                amr,
            )
            audit.login_succeeded(conn, user.id, session_id)
            issued_ms = store.token_issue_time_ms(conn, user.id)
        return self._token_response(user, session_id, refresh_token, issued_ms, amr, refresh_ttl)

    def open_for_client(
        self,
        user_id: uuid.UUID,
        client: ClientInfo,
        amr: tuple[str, ...],
        client_id: str,
        in_transaction: Callable[[Connection, uuid.UUID], bool],
    ) -> dict[str, Any] | None:
        """Open a single sign-on client's session for a user who signed in on our page; its token response.

        Like ``open`` without a password: the user's row is locked first and a
        disabled user gets nothing. ``in_transaction`` runs next, with the new
        session's id; when it returns False nothing is opened and None is returned.
        """
        session_id = uuid.uuid4()
        refresh_token, refresh_hash = new_refresh_token()
        refresh_ttl = min(self._tokens.refresh_ttl, self._max_lifetime)
        try:
            with self._pool.connection() as conn, conn.transaction():
                user = store.lock_user_for_issuing(conn, user_id)
                if user is None or user.disabled_at is not None:
                    return None
                store.insert_session(
                    conn,
                    session_id,
                    user.id,
                    refresh_hash,
                    refresh_ttl,
                    client.short_user_agent,
                    client.ip,
                    amr,
                )
                store.set_session_client(conn, session_id, client_id)
                if not in_transaction(conn, session_id):
                    raise _OpenNothing()  # leaving the block rolls the session back
                issued_ms = store.token_issue_time_ms(conn, user.id)
        except _OpenNothing:
            return None
        return self._token_response(user, session_id, refresh_token, issued_ms, amr, refresh_ttl)

    def refresh(self, presented: str, client: ClientInfo) -> dict[str, Any]:
        """Rotate a refresh token: a new pair, the old token dead; reuse ends the session."""
        if not looks_like_refresh_token(presented):
            metrics.REFRESHES.labels(result="invalid").inc()
            raise InvalidTokenError("The refresh token is invalid, expired or revoked.")
        token_hash = hash_refresh_token(presented)
        refresh_token, new_hash = new_refresh_token()
        with self._pool.connection() as conn:
            with conn.transaction():
                session_id = store.use_refresh_token(conn, token_hash)
                issued = self._rotate(conn, session_id, new_hash, client) if session_id else None
            if issued is not None and session_id is not None:  # issued implies a session
                user, issued_ms, amr, expires_in = issued
                metrics.REFRESHES.labels(result="rotated").inc()
                return self._token_response(user, session_id, refresh_token, issued_ms, amr, expires_in)
            reused = False
            if session_id is None:
                with conn.transaction():
                    reused = end_reused_session(conn, self._revocations, token_hash)
        metrics.REFRESHES.labels(result="reuse_detected" if reused else "invalid").inc()
        raise InvalidTokenError("The refresh token is invalid, expired or revoked.")

    def _rotate(
        self, conn: Connection, session_id: uuid.UUID, new_hash: bytes, client: ClientInfo
    ) -> tuple[store.User, int, tuple[str, ...], int] | None:
        """In the refresh transaction: the user, issue time, amr and refresh lifetime, or None to stop.

        The user's row first (FOR SHARE, like a login), then the session's:
        revokers lock in the same order, so they never deadlock with us. A
        session older than SESSION_MAX_LIFETIME may not go on, however often
        it was refreshed.
        """
        user = store.lock_session_user_for_issuing(conn, session_id)
        if user is None or user.disabled_at is not None:
            return None
        if not store.lock_active_session(conn, session_id, self._max_lifetime):
            return None
        expires_in = store.rotate_refresh_token(
            conn,
            session_id,
            new_hash,
            self._tokens.refresh_ttl,
            client.short_user_agent,
            client.ip,
            self._max_lifetime,
        )
        store.delete_stale_refresh_tokens(conn, session_id)
        # The session's amr, not a new one: a refresh proves no factor again.
        return user, store.token_issue_time_ms(conn, user.id), store.session_amr(conn, session_id), expires_in

    def _token_response(
        self,
        user: store.User,
        session_id: uuid.UUID,
        refresh_token: str,
        issued_ms: int,
        amr: tuple[str, ...],
        refresh_expires_in: int,
    ) -> dict[str, Any]:
        metrics.TOKENS_ISSUED.labels(kind="refresh").inc()
        roles = user.roles
        if "mfa" not in amr:
            # MFA_REQUIRED_ROLES: a session that passed no second factor has none of these powers.
            roles = [role for role in roles if role not in self._mfa_required_roles]
        access_token, _ = issue_access_token(
            self._tokens,
            user_id=str(user.id),
            username=user.username,
            session_id=str(session_id),
            roles=roles,
            amr=amr,
            # The middle of the millisecond the database chose: the token's
            # iat (rounded down to milliseconds) is then exactly that one.
            now=(issued_ms + 0.5) / 1000,
            email_verified=user.email_verified,
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self._tokens.access_ttl,
            "refresh_token": refresh_token,
            "refresh_expires_in": refresh_expires_in,
        }

    def list(self, claims: AccessClaims) -> list[dict[str, Any]]:
        """The caller's active sessions, the current one marked."""
        with self._pool.connection() as conn:
            rows = store.list_active_sessions(conn, uuid.UUID(claims.user_id))
        return [
            {
                "id": str(row.id),
                "created_at": row.created_at.isoformat(),
                "last_used_at": row.last_used_at.isoformat(),
                "user_agent": row.user_agent,
                "ip": row.ip,
                "current": str(row.id) == claims.session_id,
            }
            for row in rows
        ]

    def end(self, claims: AccessClaims, session_id: str, reason: str) -> None:
        """End one of the caller's sessions; 404 for anything else, without saying why."""
        try:
            target = uuid.UUID(session_id)
        except ValueError:
            raise NotFound() from None
        with self._pool.connection() as conn, conn.transaction():
            if not end_session(conn, self._revocations, target, uuid.UUID(claims.user_id), reason):
                raise NotFound()

    def logout(self, claims: AccessClaims) -> None:
        """End the caller's current session, in Postgres and in the revocation list."""
        with self._pool.connection() as conn, conn.transaction():
            log_out(conn, self._revocations, uuid.UUID(claims.session_id), uuid.UUID(claims.user_id))

    def logout_all(self, claims: AccessClaims) -> None:
        """End every session of the caller and revoke every access token they hold."""
        user_id = uuid.UUID(claims.user_id)
        with self._pool.connection() as conn, conn.transaction():
            end_all_sessions(conn, self._revocations, user_id, "logout_all")
            cut_off_user(conn, self._revocations, user_id)
