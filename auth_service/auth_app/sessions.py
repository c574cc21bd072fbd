"""Sessions: opening them at login, rotating refresh tokens, listing and ending them.

Refresh tokens rotate on every use. Presenting one that was already used
means it was copied: the whole session is ended. Two concurrent refreshes
with one token are the same event seen twice (a conditional UPDATE lets
exactly one win); the loser's token is then "already used", so the session
is ended too. We chose the strict reading: a client that retries a refresh
with the same token is indistinguishable from a thief racing its owner.
"""

import uuid
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from auth_app import store
from auth_app.refresh_tokens import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_app.revoking import cut_off_user, end_one_session
from authcore.errors import InvalidTokenError, NotFound
from authcore.revocation import RevocationList
from authcore.settings import TokenSettings
from authcore.tokens import AccessClaims, issue_access_token

MAX_USER_AGENT_CHARS = 256


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, as nginx saw it."""

    user_agent: str
    ip: str

    @property
    def short_user_agent(self) -> str:
        """The user agent, cut to what we store."""
        return self.user_agent[:MAX_USER_AGENT_CHARS]


class Sessions:
    """Session operations of one auth_service worker."""

    def __init__(self, tokens: TokenSettings, pool: ConnectionPool, revocations: RevocationList):
        self._tokens = tokens
        self._pool = pool
        self._revocations = revocations

    def open(self, user: store.User, client: ClientInfo) -> dict:
        """Start a session for an authenticated user; the token response of docs/API.md."""
        session_id = uuid.uuid4()
        refresh_token, refresh_hash = new_refresh_token()
        with self._pool.connection() as conn, conn.transaction():
            store.insert_session(
                conn,
                session_id,
                user.id,
                refresh_hash,
                self._tokens.refresh_ttl,
                client.short_user_agent,
                client.ip,
            )
        return self._token_response(user, session_id, refresh_token)

    def refresh(self, presented: str, client: ClientInfo) -> dict:
        """Rotate a refresh token: a new pair, the old token dead; reuse ends the session."""
        if not looks_like_refresh_token(presented):
            raise InvalidTokenError("The refresh token is invalid, expired or revoked.")
        token_hash = hash_refresh_token(presented)
        refresh_token, new_hash = new_refresh_token()
        with self._pool.connection() as conn:
            with conn.transaction():
                session_id = store.use_refresh_token(conn, token_hash)
                user = store.lock_active_session_user(conn, session_id) if session_id else None
                if user is not None:
                    store.rotate_refresh_token(
                        conn,
                        session_id,
                        new_hash,
                        self._tokens.refresh_ttl,
                        client.short_user_agent,
                        client.ip,
                    )
                    store.delete_stale_refresh_tokens(conn, session_id)
            if user is not None:
                return self._token_response(user, session_id, refresh_token)
            with conn.transaction():
                reused_session = store.find_used_refresh_token(conn, token_hash)
                if reused_session is not None:
                    store.end_session_by_id(conn, reused_session, "refresh_token_reuse")
                    self._revocations.revoke_sessions([str(reused_session)])
        raise InvalidTokenError("The refresh token is invalid, expired or revoked.")

    def _token_response(self, user: store.User, session_id: uuid.UUID, refresh_token: str) -> dict:
        access_token, _ = issue_access_token(
            self._tokens,
            user_id=str(user.id),
            username=user.username,
            session_id=str(session_id),
            roles=user.roles,
            email_verified=user.email_verified,
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self._tokens.access_ttl,
            "refresh_token": refresh_token,
            "refresh_expires_in": self._tokens.refresh_ttl,
        }

    def list(self, claims: AccessClaims) -> list[dict]:
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
            if not end_one_session(conn, self._revocations, target, uuid.UUID(claims.user_id), reason):
                raise NotFound()

    def logout(self, claims: AccessClaims) -> None:
        """End the caller's current session, in Postgres and in the revocation list."""
        with self._pool.connection() as conn, conn.transaction():
            store.end_session(conn, uuid.UUID(claims.session_id), uuid.UUID(claims.user_id), "logout")
            # Revoke even if the row was already ended: a second revocation is harmless.
            self._revocations.revoke_sessions([claims.session_id])

    def logout_all(self, claims: AccessClaims) -> None:
        """End every session of the caller and revoke every access token they hold."""
        with self._pool.connection() as conn, conn.transaction():
            cut_off_user(conn, self._revocations, uuid.UUID(claims.user_id), end_reason="logout_all")
