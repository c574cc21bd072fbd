"""Account and session operations: the rules between the routes and the store.

Ending a session is written to Postgres and to the Redis revocation list in
one step: the Redis write happens inside the Postgres transaction, so if
Redis fails nothing is committed and the client gets a 503 to retry, and a
session is never ended in one place but not the other.
"""

import uuid
from dataclasses import dataclass

from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from auth_app import store
from auth_app.passwords import check_password, hash_password
from auth_app.refresh_tokens import new_refresh_token
from auth_app.settings import Settings
from auth_app.validation import normalise_username
from authcore.errors import Conflict, InvalidCredentials
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims, issue_access_token

MAX_USER_AGENT_CHARS = 256


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, as nginx saw it."""

    user_agent: str
    ip: str


class Accounts:
    """Signup, login and session endings for one auth_service worker."""

    def __init__(self, settings: Settings, pool: ConnectionPool, revocations: RevocationList):
        self._settings = settings
        self._pool = pool
        self._revocations = revocations

    def signup(self, username: str, email: str, password: str) -> store.User:
        """Create a user from validated fields; 409 if the name or email is taken."""
        password_hash = hash_password(password, self._settings.bcrypt_rounds)
        try:
            with self._pool.connection() as conn:
                return store.insert_user(conn, username, email, password_hash)
        except pg_errors.UniqueViolation as exc:
            taken = "email" if "email" in (exc.diag.constraint_name or "") else "username"
            raise Conflict(f"{taken}_taken", f"That {taken} is already taken.", {taken: "is taken"}) from None

    def login(self, login: str, password: str, client: ClientInfo) -> dict:
        """Check credentials and open a session; the token response of API.md."""
        is_email = "@" in login
        with self._pool.connection() as conn:
            user = store.find_user_by_login(
                conn,
                username=None if is_email else normalise_username(login),
                email=login if is_email else None,
            )
        rounds = self._settings.bcrypt_rounds
        # Always one bcrypt check, so unknown users and wrong passwords look alike.
        password_ok = check_password(password, user.password_hash if user else None, rounds)
        if user is None or not password_ok or user.disabled_at is not None:
            raise InvalidCredentials()
        return self._open_session(user, client)

    def _open_session(self, user: store.User, client: ClientInfo) -> dict:
        session_id = uuid.uuid4()
        refresh_token, refresh_hash = new_refresh_token()
        with self._pool.connection() as conn, conn.transaction():
            store.insert_session(
                conn,
                session_id,
                user.id,
                refresh_hash,
                self._settings.tokens.refresh_ttl,
                client.user_agent[:MAX_USER_AGENT_CHARS],
                client.ip,
            )
        return self._token_response(user, session_id, refresh_token)

    def _token_response(self, user: store.User, session_id: uuid.UUID, refresh_token: str) -> dict:
        tokens = self._settings.tokens
        access_token, _ = issue_access_token(
            tokens,
            user_id=str(user.id),
            username=user.username,
            session_id=str(session_id),
            roles=user.roles,
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": tokens.access_ttl,
            "refresh_token": refresh_token,
            "refresh_expires_in": tokens.refresh_ttl,
        }

    def logout(self, claims: AccessClaims) -> None:
        """End the caller's current session, in Postgres and in the revocation list."""
        with self._pool.connection() as conn, conn.transaction():
            store.end_session(conn, uuid.UUID(claims.session_id), uuid.UUID(claims.user_id), "logout")
            # Revoke even if the row was already ended: the token in hand proved
            # the session alive a moment ago, and a second revocation is harmless.
            self._revocations.revoke_sessions([claims.session_id])
