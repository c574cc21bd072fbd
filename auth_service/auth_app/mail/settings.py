"""Mail settings of auth_service: the SMTP server, the sender, links, token lifetimes, notices.

Read once at start with the other settings (``auth_app.settings``). A
password is never part of ``SMTP_URL`` (URLs end up in logs): it comes
from ``SMTP_PASSWORD`` or the file named by ``SMTP_PASSWORD_FILE``.
"""

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from authcore.settings import SettingsError, read_int, read_str

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


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


def read_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Return ``env[name]`` as a boolean (1/0, true/false, yes/no, on/off), else ``default``."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be one of 1/0, true/false, yes/no, on/off")


def _smtp_password(env: Mapping[str, str]) -> str | None:
    password, password_file = env.get("SMTP_PASSWORD", ""), env.get("SMTP_PASSWORD_FILE", "").strip()
    if password and password_file:
        raise SettingsError("set SMTP_PASSWORD or SMTP_PASSWORD_FILE, not both")
    if password_file:
        try:
            return Path(password_file).read_text().rstrip("\r\n")
        except OSError:
            raise SettingsError("SMTP_PASSWORD_FILE cannot be read") from None
    return password or None


def read_smtp_config(env: Mapping[str, str]) -> SmtpConfig | None:
    """Parse ``SMTP_URL`` (``smtp://host[:port][?starttls=1]`` or ``smtps://host[:port]``)."""
    raw = env.get("SMTP_URL", "").strip()
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
    username = env.get("SMTP_USERNAME", "").strip() or None
    password = _smtp_password(env)
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
        timeout=read_int(env, "SMTP_TIMEOUT", 10, 1, 120),
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
    public_url = read_str(env, "PUBLIC_URL", "http://localhost:8080").rstrip("/")
    check_public_url(public_url)
    return MailSettings(
        smtp=read_smtp_config(env),
        mail_from=read_str(env, "MAIL_FROM", "authstack <no-reply@localhost>"),
        public_url=public_url,
        reset_token_ttl=read_int(env, "RESET_TOKEN_TTL", 1800, 60, 86400),
        verification_token_ttl=read_int(env, "EMAIL_VERIFICATION_TTL", 172800, 300, 2592000),
        require_verified_email=read_bool(env, "REQUIRE_VERIFIED_EMAIL", False),
        notify_password_change=read_bool(env, "NOTIFY_PASSWORD_CHANGE", True),
        notify_new_device=read_bool(env, "NOTIFY_NEW_DEVICE", False),
    )
