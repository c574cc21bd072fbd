"""Accounts: signup, login, password changes, roles and disabling.

Everything that ends sessions or revokes tokens goes through
``auth_app.revoking``, which keeps Postgres and the revocation list in step.
"""

import uuid

from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from auth_app import account_mail, store
from auth_app.passwords import check_password, hash_password
from auth_app.revoking import cut_off_user, end_sessions
from auth_app.sessions import ClientInfo, Sessions
from auth_app.settings import Settings
from auth_app.throttle import LoginThrottle
from auth_app.validation import normalise_username, password_problem
from authcore.errors import Conflict, InvalidCredentials, NotFound, TooManyRequests, ValidationFailed
from authcore.revocation import RevocationList
from authcore.tokens import AccessClaims


class Accounts:
    """Account operations of one auth_service worker."""

    def __init__(
        self,
        settings: Settings,
        pool: ConnectionPool,
        revocations: RevocationList,
        sessions: Sessions,
        throttle: LoginThrottle,
    ):
        self._settings = settings
        self._pool = pool
        self._revocations = revocations
        self._sessions = sessions
        self._throttle = throttle

    def signup(self, username: str, email: str, password: str) -> store.User:
        """Create a user from validated fields; 409 if the name or email is taken."""
        password_hash = hash_password(password, self._settings.bcrypt_rounds)
        try:
            with self._pool.connection() as conn, conn.transaction():
                user = store.insert_user(conn, username, email, password_hash)
                account_mail.signed_up(conn, user.id)
                return user
        except pg_errors.UniqueViolation as exc:
            taken = "email" if "email" in (exc.diag.constraint_name or "") else "username"
            raise Conflict(f"{taken}_taken", f"That {taken} is already taken.", {taken: "is taken"}) from None

    def login(self, login: str, password: str, client: ClientInfo) -> dict:
        """Check credentials and open a session; the token response of docs/API.md.

        Unknown users, wrong passwords and disabled users get the same 401
        after the same work (a lookup, one bcrypt check, one failure counted).
        """
        is_email = "@" in login
        with self._pool.connection() as conn:
            user = store.find_user_by_login(
                conn,
                username=None if is_email else normalise_username(login),
                email=login if is_email else None,
            )
        # One counter per account, whichever name it is reached by; unknown
        # names get their own, so throttling reveals nothing either.
        throttle_key = f"user:{user.id}" if user else f"login:{normalise_username(login)}"
        self._refuse_if_throttled(throttle_key)
        password_ok = check_password(
            password, user.password_hash if user else None, self._settings.bcrypt_rounds
        )
        if user is None or not password_ok or user.disabled_at is not None:
            self._throttle.record_failure(throttle_key)
            raise InvalidCredentials()
        self._throttle.record_success(throttle_key)
        account_mail.refuse_unverified(self._settings.mail, user.email_verified)
        account_mail.signed_in(self._pool, self._settings.mail, user.id, client.short_user_agent, client.ip)
        return self._sessions.open(user, client)

    def _refuse_if_throttled(self, throttle_key: str) -> None:
        wait = self._throttle.retry_after(throttle_key)
        if wait:
            raise TooManyRequests(wait, "Too many failed attempts for this account; retry later.")

    def change_password(self, claims: AccessClaims, current: str, new: str) -> None:
        """Set a new password after checking the current one; end every other session."""
        problem = password_problem(new)
        if problem:
            raise ValidationFailed(fields={"new_password": problem})
        user_id = uuid.UUID(claims.user_id)
        # Guessing the current password with a stolen token counts like guessing at login.
        throttle_key = f"user:{user_id}"
        self._refuse_if_throttled(throttle_key)
        with self._pool.connection() as conn:
            user = store.find_user_by_id(conn, user_id)
        if user is None or not check_password(current, user.password_hash, self._settings.bcrypt_rounds):
            self._throttle.record_failure(throttle_key)
            raise ValidationFailed(fields={"current_password": "is incorrect"})
        new_hash = hash_password(new, self._settings.bcrypt_rounds)
        with self._pool.connection() as conn, conn.transaction():
            store.set_password_hash(conn, user_id, new_hash)
            account_mail.password_changed(conn, self._settings.mail, user_id)
            end_sessions(
                conn, self._revocations, user_id, "password_changed", keep=uuid.UUID(claims.session_id)
            )

    def grant_role(self, username: str, role: str) -> None:
        """Give a user a role (idempotent); it shows in tokens from their next refresh."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            if role not in user.roles:
                store.set_roles(conn, user.id, [*user.roles, role])

    def revoke_role(self, username: str, role: str) -> None:
        """Take a role away (idempotent); tokens carrying it stop working at once."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            if role in user.roles:
                store.set_roles(conn, user.id, [r for r in user.roles if r != role])
                # The tokens in hand still list the role: cut them off, so the
                # next request must refresh and gets tokens without it.
                cut_off_user(conn, self._revocations, user.id)

    def disable(self, username: str) -> None:
        """Disable a user: every session ends, logins and refreshes are refused."""
        with self._pool.connection() as conn, conn.transaction():
            user = self._locked_user(conn, username)
            store.disable_user(conn, user.id)
            cut_off_user(conn, self._revocations, user.id, end_reason="user_disabled")

    @staticmethod
    def _locked_user(conn, username: str) -> store.User:
        user = store.lock_user_by_name(conn, normalise_username(username))
        if user is None:
            raise NotFound("No such user.")
        return user
