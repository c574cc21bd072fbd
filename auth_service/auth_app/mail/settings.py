"""Mail settings of auth_service: the SMTP server, the sender, links, token lifetimes, notices.

Read once at start with the other settings (``auth_app.settings``). A
password is never part of ``SMTP_URL`` (URLs end up in logs): it comes
from ``SMTP_PASSWORD`` or the file named by ``SMTP_PASSWORD_FILE``.
"""

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from authcore.settings import FALSE_WORDS, TRUE_WORDS, SettingsError, read

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail server."""

    host: str
    port: int
    implicit_tls: bool  # smtps://
    starttls: bool  # smtp://...?starttls=1
    username: str | None
    password: str | None
    timeout: int

    def __repr__(self) -> str:  # keep the password out of any log line
        return f"SmtpConfig(host={self.host!r}, port={self.port}, tls={self.implicit_tls or self.starttls})"


@dataclass(frozen=True)
class MailSettings:
    """Everything mail-related auth_service reads from the environment."""

    smtp: SmtpConfig | None  # None: SMTP_URL unset, messages wait in the outbox
    mail_from: str
    public_url: str
    reset_token_ttl: int
    verification_token_ttl: int
    require_verified_email: bool
    notify_password_change: bool
    notify_new_device: bool


def read_smtp_config(env: Mapping[str, str]) -> SmtpConfig | None:
    """Parse ``SMTP_URL`` (``smtp://host[:port][?starttls=1]`` or ``smtps://host[:port]``)."""
    raw = read(env, "SMTP_URL")
    if not raw:
        return None
    url = urllib.parse.urlsplit(raw)
    if url.scheme not in DEFAULT_PORTS or not url.hostname:
        raise SettingsError("SMTP_URL must look like smtp://host[:port][?starttls=1] or smtps://host[:port]")
    if url.username or url.password:
        raise SettingsError("SMTP_URL must not carry credentials: use SMTP_USERNAME and SMTP_PASSWORD(_FILE)")
    try:
        port = url.port or DEFAULT_PORTS[url.scheme]
    except ValueError:
        raise SettingsError("SMTP_URL has an invalid port") from None
    query = urllib.parse.parse_qs(url.query)
    starttls_word = (query.get("starttls") or ["0"])[0].strip().lower()
    if starttls_word not in TRUE_WORDS | FALSE_WORDS:
        raise SettingsError("SMTP_URL's starttls must be 1 or 0")
    starttls = starttls_word in TRUE_WORDS
    username = read(env, "SMTP_USERNAME") or None
    password = read(env, "SMTP_PASSWORD")
    if (username is None) != (password is None):
        raise SettingsError("SMTP_USERNAME and SMTP_PASSWORD(_FILE) go together")
    implicit_tls = url.scheme == "smtps"
    if username and not (implicit_tls or starttls):
        raise SettingsError("SMTP credentials need smtps:// or ?starttls=1 (never sent in clear)")
    return SmtpConfig(
        host=url.hostname,
        port=port,
        implicit_tls=implicit_tls,
        starttls=starttls and not implicit_tls,
        username=username,
        password=password,
        timeout=read(env, "SMTP_TIMEOUT"),
    )


# Hosts where a plain http:// link never leaves the machine (development).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_public_url(public_url: str) -> None:
    """Refuse a ``PUBLIC_URL`` that is not https://, but for http:// on a loopback host.

    The mailed links carry reset and verification tokens: over plain http
    anyone on the path reads them.
    """
    try:
        parts = urllib.parse.urlsplit(public_url)
        host = parts.hostname
    except ValueError:
        raise SettingsError("PUBLIC_URL must be an https:// URL") from None
    if not host:
        raise SettingsError("PUBLIC_URL must be an https:// URL")
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return
    raise SettingsError("PUBLIC_URL must be an https:// URL (http:// only on localhost, 127.0.0.1 or ::1)")


def load_mail_settings(env: Mapping[str, str]) -> MailSettings:
    """Build ``MailSettings`` from ``env``."""
    public_url = read(env, "PUBLIC_URL").rstrip("/")
    check_public_url(public_url)
    return MailSettings(
        smtp=read_smtp_config(env),
        mail_from=read(env, "MAIL_FROM"),
        public_url=public_url,
        reset_token_ttl=read(env, "RESET_TOKEN_TTL"),
        verification_token_ttl=read(env, "EMAIL_VERIFICATION_TTL"),
        require_verified_email=read(env, "REQUIRE_VERIFIED_EMAIL"),
        notify_password_change=read(env, "NOTIFY_PASSWORD_CHANGE"),
        notify_new_device=read(env, "NOTIFY_NEW_DEVICE"),
    )
