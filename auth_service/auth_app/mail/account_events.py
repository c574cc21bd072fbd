"""What account events put in the outbox, and the verified-email rule at login.

``auth_app.accounts`` calls these at the points named by each function,
inside its own transaction where it has one, so a message is queued if and
only if the action commits.
"""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app.mail import store as mail_store
from auth_app.mail.link_tokens import EMAIL_VERIFICATION, PASSWORD_RESET
from auth_app.mail.messages import MFA_NOTICE_KINDS
from auth_app.mail.settings import MailSettings
from authcore.errors import ApiError


class EmailNotVerified(ApiError):
    """``REQUIRE_VERIFIED_EMAIL`` is on and the account's address is not verified yet."""

    status, code = 403, "email_not_verified"
    message = "Confirm your email address first: follow the link mailed to you, or ask for a new one."


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def signed_up(conn: Connection, user_id: uuid.UUID) -> None:
    """Queue the verification mail of a new account (inside the signup transaction)."""
    mail_store.enqueue(conn, EMAIL_VERIFICATION, user_id=user_id)


SIGNUP_ATTEMPT = "signup_attempt"


def signup_attempted(conn: Connection, owner_id: uuid.UUID) -> None:
    """Queue "someone tried to sign up with your address" for the address's owner."""
    mail_store.enqueue(conn, SIGNUP_ATTEMPT, user_id=owner_id, details={"at": _now()})


def password_changed(
    conn: Connection, settings: MailSettings, user_id: uuid.UUID, how: str = "change"
) -> None:
    """Inside the transaction that sets a new password: older reset links die, the notice is queued."""
    mail_store.delete_tokens(conn, user_id, PASSWORD_RESET)
    if settings.notify_password_change:
        mail_store.enqueue(conn, "password_changed", user_id=user_id, details={"how": how, "at": _now()})


def refuse_unverified(settings: MailSettings, email_verified: bool) -> None:
    """At login, after the password was checked: 403 ``email_not_verified`` if the setting asks for it."""
    if settings.require_verified_email and not email_verified:
        raise EmailNotVerified()


def signed_in(
    pool: ConnectionPool, settings: MailSettings, user_id: uuid.UUID, user_agent: str, ip: str
) -> None:
    """At a successful login: queue a notice if the device (user agent) is new to the account.

    The first device an account is used from is no news: only a new device
    of an account that was used from another one before gets a notice.
    """
    if not settings.notify_new_device:
        return
    device_hash = hashlib.sha256(user_agent.encode("utf-8")).digest()
    with pool.connection() as conn, conn.transaction():
        new, had_others = mail_store.remember_device(conn, user_id, device_hash)
        if new and had_others:
            details = {"user_agent": user_agent, "ip": ip, "at": _now()}
            mail_store.enqueue(conn, "new_device", user_id=user_id, details=details)


def mfa_changed(
    conn: Connection,
    settings: MailSettings,
    user_id: uuid.UUID,
    kind: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Inside the transaction that changes or uses a second factor: queue the owner's notice.

    Sent whatever ``NOTIFY_PASSWORD_CHANGE`` says: a factor turned off or
    used by someone else is as urgent as a changed password.
    """
    if kind not in MFA_NOTICE_KINDS:
        raise ValueError(f"not a second-factor notice: {kind}")
    mail_store.enqueue(conn, kind, user_id=user_id, details={**(details or {}), "at": _now()})
