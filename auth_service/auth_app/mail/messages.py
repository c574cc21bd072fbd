"""The text of every message auth_service sends: plain text, one function per kind."""

import email.utils
from email.message import EmailMessage
from typing import Any

from auth_app.mail.settings import MailSettings
from auth_app.mail.store import Recipient


def _message(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain="authstack")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _duration(seconds: int) -> str:
    """'30 minutes', '2 hours', '2 days': the largest unit that divides ``seconds`` evenly."""
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def password_reset(settings: MailSettings, user: Recipient, token: str) -> EmailMessage:
    """The reset link (the token sits in the URL fragment: browsers never send it to a server)."""
    link = f"{settings.public_url}/reset-password#token={token}"
    body = (
        f"Hello {user.username},\n\n"
        "Someone (hopefully you) asked to reset the password of your account.\n"
        f"To choose a new password, open this link within {_duration(settings.reset_token_ttl)}:\n\n"
        f"{link}\n\n"
        "The link works once. If you did not ask for it, ignore this message: your password stays as it is.\n"
    )
    return _message(settings, user.email, "Reset your password", body)


def email_verification(settings: MailSettings, user: Recipient, token: str) -> EmailMessage:
    """The link that proves the address belongs to the user."""
    link = f"{settings.public_url}/verify-email#token={token}"
    body = (
        f"Hello {user.username},\n\n"
        "Please confirm that this is your email address by opening this link"
        f" within {_duration(settings.verification_token_ttl)}:\n\n"
        f"{link}\n\n"
        "If you did not create an account, ignore this message.\n"
    )
    return _message(settings, user.email, "Confirm your email address", body)


def password_changed(settings: MailSettings, user: Recipient, details: dict[str, Any]) -> EmailMessage:
    """The notice that the password was changed (or reset)."""
    how = "reset through a mailed link" if details.get("how") == "reset" else "changed"
    body = (
        f"Hello {user.username},\n\n"
        f"The password of your account was {how} at {details.get('at', 'an unknown time')}.\n"
        "Every other session of the account has been signed out.\n\n"
        "If this was not you, reset your password at once and contact your administrator.\n"
    )
    return _message(settings, user.email, "Your password was changed", body)


def new_device(settings: MailSettings, user: Recipient, details: dict[str, Any]) -> EmailMessage:
    """The notice of a sign-in from a device the account was not used from before."""
    body = (
        f"Hello {user.username},\n\n"
        "Your account was just signed in to from a device it was not used from before:\n\n"
        f"  when:    {details.get('at', 'unknown')}\n"
        f"  device:  {details.get('user_agent') or 'unknown'}\n"
        f"  address: {details.get('ip') or 'unknown'}\n\n"
        "If this was you, there is nothing to do. If not, change your password and sign out"
        " every session.\n"
    )
    return _message(settings, user.email, "New sign-in to your account", body)


def signup_attempt(settings: MailSettings, user: Recipient, details: dict[str, Any]) -> EmailMessage:
    """The notice that someone tried to sign up with the address of an existing account."""
    body = (
        f"Hello {user.username},\n\n"
        f"Someone tried to sign up with your address at {details.get('at', 'an unknown time')}.\n"
        "You already have an account, so no new one was made, and they were not told.\n\n"
        f"If it was you: sign in as {user.username}, or reset your password at"
        f" {settings.public_url}/ if you forgot it. If not, there is nothing to do.\n"
    )
    return _message(settings, user.email, "Someone tried to sign up with your address", body)


_MFA_NOTICES = {
    "mfa_enabled": (
        "Two-factor authentication is on",
        "Two-factor authentication was turned on for your account at {at}.\n"
        "Every other session of the account has been signed out. Keep your recovery codes somewhere safe.",
    ),
    "mfa_disabled": (
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your account at {at}.\n"
        "Your password alone now signs you in.",
    ),
    "mfa_recovery_code_used": (
        "A recovery code was used",
        "One of your recovery codes was used at {at}; {left} unused ones are left.\n"
        "If you have lost your authenticator, set it up again and make new codes.",
    ),
    "passkey_added": (
        "A passkey was added",
        'A passkey named "{name}" was added to your account at {at}.\n'
        "It signs you in without a password from the device that holds it.",
    ),
    "passkey_removed": (
        "A passkey was removed",
        'The passkey named "{name}" was removed from your account at {at}.',
    ),
    "mfa_reset_by_admin": (
        "Your second factors were removed",
        "An administrator removed the two-factor authentication of your account at {at},\n"
        "and every session of the account was signed out. Set it up again after you sign in.",
    ),
}

MFA_NOTICE_KINDS = tuple(_MFA_NOTICES)


def mfa_notice(settings: MailSettings, user: Recipient, kind: str, details: dict[str, Any]) -> EmailMessage:
    """The notice of a second factor turned on or off, a recovery code used, or an admin's reset."""
    subject, text = _MFA_NOTICES[kind]
    body = (
        f"Hello {user.username},\n\n"
        + text.format(
            at=details.get("at", "an unknown time"),
            left=details.get("left", "some"),
            name=details.get("name", "(unnamed)"),
        )
        + "\n\nIf this was not you, change your password at once and contact your administrator.\n"
    )
    return _message(settings, user.email, subject, body)
