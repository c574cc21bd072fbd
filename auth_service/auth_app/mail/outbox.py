"""Delivering the outbox: a sender thread in every auth_service worker.

Requests only ever insert rows into ``mail_outbox`` (in the transaction of
the action they report), so a slow or unreachable mail server can't slow or
fail a request. Each worker's sender claims one due row at a time with
``FOR UPDATE SKIP LOCKED`` and a lease, so any number of workers and
replicas share the queue without sending a message twice, except when a
sender dies between sending and recording it (delivery is at least once).
A failed attempt is retried with exponential backoff; a server's permanent
refusal (5xx) or ``MAX_ATTEMPTS`` failures mark the row ``failed``.

Tokens are made when a message is composed, not when it is queued: the
outbox never holds a secret, and a retried message carries a fresh token
(which kills the one in a message that may never have arrived).
"""

import logging
import smtplib
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import psycopg
from psycopg_pool import ConnectionPool

from auth_app.mail import messages as mail_messages
from auth_app.mail import store as mail_store
from auth_app.mail.account_events import SIGNUP_ATTEMPT
from auth_app.mail.link_tokens import EMAIL_VERIFICATION, PASSWORD_RESET, new_email_token
from auth_app.mail.settings import MailSettings
from auth_app.mail.transport import PermanentMailError, SmtpConnection

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 2
MAX_RETRY_SECONDS = 600
PRUNE_EVERY_SECONDS = 600
# Sent, skipped and failed rows stay a week for anyone looking into what happened.
KEEP_FINISHED_SECONDS = 7 * 24 * 3600
RETRYABLE_ERRORS = (OSError, smtplib.SMTPException, psycopg.Error)


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: 2, 4, 8, ... capped at 10 min."""
    # int ** int is typed Any (a negative exponent gives a float).
    delay: float = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
    return delay


def compose(
    conn: psycopg.Connection, settings: MailSettings, row: mail_store.OutboxRow
) -> EmailMessage | None:
    """The message for an outbox row, making (and storing) its token; None if it has become moot."""
    if row.kind == PASSWORD_RESET:
        # Queued for any address asked for: only here do we find out whether it is a user's.
        user = mail_store.recipient_by_email(conn, row.email or "")
        age = (datetime.now(UTC) - row.created_at).total_seconds()
        if user is None or user.disabled or age > settings.reset_token_ttl:
            return None
        token, token_hash = new_email_token()
        mail_store.replace_token(
            conn, token_hash, user.id, PASSWORD_RESET, user.email, settings.reset_token_ttl
        )
        return mail_messages.password_reset(settings, user, token)
    user = mail_store.recipient_by_id(conn, row.user_id) if row.user_id else None
    if user is None or user.disabled:
        return None
    if row.kind == EMAIL_VERIFICATION:
        if user.email_verified:
            return None
        token, token_hash = new_email_token()
        mail_store.replace_token(
            conn, token_hash, user.id, EMAIL_VERIFICATION, user.email, settings.verification_token_ttl
        )
        return mail_messages.email_verification(settings, user, token)
    if row.kind == "password_changed":
        return mail_messages.password_changed(settings, user, row.details)
    if row.kind == "new_device":
        return mail_messages.new_device(settings, user, row.details)
    if row.kind == SIGNUP_ATTEMPT:
        return mail_messages.signup_attempt(settings, user, row.details)
    if row.kind in mail_messages.MFA_NOTICE_KINDS:
        return mail_messages.mfa_notice(settings, user, row.kind, row.details)
    log.error("outbox row %d has an unknown kind %r", row.id, row.kind)
    return None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


class OutboxSender:
    """Sends due outbox messages, one at a time, over one reused SMTP connection."""

    def __init__(self, pool: ConnectionPool, settings: MailSettings):
        if settings.smtp is None:
            raise ValueError("no SMTP server configured")
        self._pool = pool
        self._settings = settings
        self._smtp = SmtpConnection(settings.smtp)
        # Long enough for connect, EHLO, STARTTLS, login and DATA each to use their timeout.
        self._lease_seconds = settings.smtp.timeout * 5 + 30

    def send_next(self) -> bool:
        """Handle the next due message; False if there was none."""
        with self._pool.connection() as conn:
            row = mail_store.claim_due(conn, self._lease_seconds)
        if row is None:
            self._smtp.close()  # idle: don't hold a connection the server would drop anyway
            return False
        status, error = "sent", None
        try:
            with self._pool.connection() as conn, conn.transaction():
                message = compose(conn, self._settings, row)
            if message is None:
                status = "skipped"
            else:
                self._smtp.send(message)
        except PermanentMailError as exc:
            status, error = "failed", str(exc)
        except RETRYABLE_ERRORS as exc:
            error = _describe(exc)
            if row.attempts < MAX_ATTEMPTS:
                self._retry_later(row, error)
                return True
            status = "failed"
        if status == "failed":
            log.error("mail %d (%s) failed for good: %s", row.id, row.kind, error)
        with self._pool.connection() as conn:
            mail_store.finish(conn, row.id, status, error)
        return True

    def _retry_later(self, row: mail_store.OutboxRow, error: str) -> None:
        delay = retry_delay(row.attempts)
        log.warning(
            "mail %d (%s) attempt %d failed: %s; next in %ss", row.id, row.kind, row.attempts, error, delay
        )
        with self._pool.connection() as conn:
            mail_store.retry_later(conn, row.id, delay, error)

    def run_forever(self) -> None:
        """Send what is due, poll when idle, prune finished rows now and then; never returns."""
        next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        while True:
            try:
                busy = self.send_next()
                if time.monotonic() > next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    with self._pool.connection() as conn:
                        mail_store.prune(conn, KEEP_FINISHED_SECONDS)
            except Exception as exc:  # Postgres down: the lease brings the row back later
                log.warning("outbox sender: %s", type(exc).__name__)
                busy = False
            if not busy:
                time.sleep(POLL_SECONDS)


def start_outbox_sender(pool: ConnectionPool, settings: MailSettings) -> None:
    """Start this worker's sender thread (a warning instead if no SMTP server is configured)."""
    if settings.smtp is None:
        log.warning("SMTP_URL is not set: mail stays in the outbox until a server is configured")
        return
    sender = OutboxSender(pool, settings)
    threading.Thread(target=sender.run_forever, name="outbox-sender", daemon=True).start()


def outbox_counts(pool: ConnectionPool) -> dict[str, int]:
    """Messages per state: pending, sent, skipped, failed."""
    with pool.connection() as conn:
        return mail_store.outbox_counts(conn)
