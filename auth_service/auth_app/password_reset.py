"""Password reset by mail: asking for a link, and setting a new password with it.

Asking costs the same for every address: a throttle count in Redis and one
outbox row, whether or not the address belongs to anyone (the sender finds
that out later), so neither the answer nor its timing tells them apart.
"""

import uuid

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit, store
from auth_app.mail import account_events as account_mail
from auth_app.mail import store as mail_store
from auth_app.mail.limits import MailRequestLimits
from auth_app.mail.link_tokens import PASSWORD_RESET, hash_email_token, looks_like_email_token
from auth_app.passwords import hash_password
from auth_app.revoking import cut_off_user, end_access_tokens, end_all_sessions, lock_user
from auth_app.settings import Settings
from auth_app.validation import email_problem, normalise_email, password_problem
from authcore.errors import ApiError, ValidationFailed
from authcore.revocation import RevocationList


class InvalidResetToken(ApiError):
    """The reset token is malformed, unknown, expired or already used: one answer for all."""

    status, code = 400, "invalid_reset_token"
    message = "This reset link is invalid, expired or already used; ask for a new one."


class PasswordReset:
    """The password-reset operations of one auth_service worker."""

    def __init__(
        self, settings: Settings, pool: ConnectionPool, revocations: RevocationList, limits: MailRequestLimits
    ):
        self._settings = settings
        self._pool = pool
        self._revocations = revocations
        self._limits = limits

    def request(self, email: str) -> None:
        """Queue a reset link for ``email``, known, unknown or disabled alike (429 past the limit)."""
        problem = email_problem(email)
        if problem:
            raise ValidationFailed(fields={"email": problem})
        # One counter per address, however it is spelt (fullwidth, another case...).
        self._limits.count(PASSWORD_RESET, normalise_email(email))
        with self._pool.connection() as conn:
            mail_store.enqueue(conn, PASSWORD_RESET, email=email)

    def reset(self, token: str, new_password: str) -> None:
        """Set a new password with a mailed token; every session of the user ends.

        The token is checked before any bcrypt work (an unknown one costs a
        lookup, not a password slot), and used under the user's row lock,
        taken first: the lock order of every path that touches the user and
        a token row (a password change locks the user, then deletes the
        reset tokens), so the two never deadlock.
        """
        problem = password_problem(new_password)
        if problem:
            raise ValidationFailed(fields={"new_password": problem})
        if not looks_like_email_token(token):
            raise InvalidResetToken()
        token_hash = hash_email_token(token)
        with self._pool.connection() as conn:
            owner = mail_store.token_owner(conn, token_hash, PASSWORD_RESET)
        if owner is None:
            raise InvalidResetToken()
        new_hash = hash_password(new_password, self._settings.bcrypt_rounds)
        with self._pool.connection() as conn, conn.transaction():
            lock_user(conn, owner)
            found = mail_store.consume_token(conn, token_hash, PASSWORD_RESET)
            if found is None:  # used, replaced or killed by a password change meanwhile
                raise InvalidResetToken()
            user_id, mailed_to = found
            self._set_password(conn, user_id, mailed_to, new_hash)

    def _set_password(self, conn: Connection, user_id: uuid.UUID, mailed_to: str, new_hash: str) -> None:
        # The user's row is locked FOR UPDATE (by ``reset``), like every revoking
        # change: no token is issued for this user between the new hash and the sessions' end.
        store.set_password_hash(conn, user_id, new_hash)
        audit.record(conn, "authn_password_change", target=user_id, details={"how": "reset"})
        # Following the link proved the address is the user's.
        mail_store.mark_email_verified(conn, user_id, mailed_to)
        account_mail.password_changed(conn, self._settings.mail, user_id, how="reset")
        # Whoever knew the old password may hold sessions: all of them end.
        end_all_sessions(conn, self._revocations, user_id, "password_reset")
        cut_off_user(conn, self._revocations, user_id)
        end_access_tokens(conn, self._revocations, user_id, "password_reset")
