"""Email verification: using the mailed link, and asking for a new one."""

import uuid

from psycopg_pool import ConnectionPool

from auth_app.mail import store as mail_store
from auth_app.mail.limits import MailRequestLimits
from auth_app.mail.link_tokens import EMAIL_VERIFICATION, hash_email_token, looks_like_email_token
from auth_app.revoking import lock_user, rewrite_access_tokens
from authcore.errors import ApiError
from authcore.revocation import RevocationList


class InvalidVerificationToken(ApiError):
    """The verification token is malformed, unknown, expired or already used."""

    status, code = 400, "invalid_verification_token"
    message = "This verification link is invalid, expired or already used; ask for a new one."


class EmailVerification:
    """The email-verification operations of one auth_service worker."""

    def __init__(self, pool: ConnectionPool, limits: MailRequestLimits, revocations: RevocationList):
        self._pool = pool
        self._limits = limits
        self._revocations = revocations

    def verify(self, token: str) -> None:
        """Mark the address the token was mailed to as verified (single use)."""
        if not looks_like_email_token(token):
            raise InvalidVerificationToken()
        token_hash = hash_email_token(token)
        with self._pool.connection() as conn, conn.transaction():
            # The user's row first, then the token's: the lock order of every
            # path that touches both (a password change, a reset).
            owner = mail_store.token_owner(conn, token_hash, EMAIL_VERIFICATION)
            if owner is None or lock_user(conn, owner) is None:
                raise InvalidVerificationToken()
            found = mail_store.consume_token(conn, token_hash, EMAIL_VERIFICATION)
            # The address must still be the account's (it was mailed to that one).
            if found is None or not mail_store.mark_email_verified(conn, *found):
                raise InvalidVerificationToken()
            # Personal access tokens say email_verified from the next request on.
            rewrite_access_tokens(conn, self._revocations, found[0])

    def resend(self, user_id: str) -> None:
        """Queue a new verification mail (the sender skips it if the address is verified by then)."""
        self._limits.count(EMAIL_VERIFICATION, user_id)
        with self._pool.connection() as conn:
            mail_store.enqueue(conn, EMAIL_VERIFICATION, user_id=uuid.UUID(user_id))
