"""auth_service settings, read and validated once at start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from psycopg.conninfo import make_conninfo

from auth_app.factors.passkeys import RelyingParty, read_relying_party
from auth_app.factors.secret_box import read_mfa_keys
from auth_app.mail.settings import MailSettings, load_mail_settings
from auth_app.oidc.signing_keys import SigningKeys, load_signing_keys
from auth_app.validation import ROLE
from authcore.settings import SettingsError, TokenSettings, read, read_str, read_token_settings


@dataclass(frozen=True)
class Settings:
    """Everything auth_service reads from the environment."""

    tokens: TokenSettings
    database_url: str = field(repr=False)  # carries the password
    redis_url: str
    bcrypt_rounds: int
    login_max_failures: int
    log_level: str
    audit_retention_days: int
    mail: MailSettings
    password_queue_deadline: float = 2.0
    session_max_lifetime: int = 30 * 24 * 3600
    redis_password: str | None = field(default=None, repr=False)
    # AES-GCM keys of second-factor secrets (MFA_KEY): the first seals, all open.
    mfa_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # Roles a token carries only if its session passed a second factor.
    mfa_required_roles: frozenset[str] = frozenset()
    # Passkeys' relying party (WEBAUTHN_RP_ID, PUBLIC_URL); None: passkeys are off.
    webauthn: RelyingParty | None = None
    # The OpenID Connect provider's ID-token keys; None: no provider.
    oidc_signing_keys: SigningKeys | None = field(default=None, repr=False)


def database_conninfo(
    env: Mapping[str, str],
    url_name: str = "DATABASE_URL",
    password_name: str = "POSTGRES_PASSWORD",  # noqa: S107 - the setting's name, not a password
) -> str:
    """The libpq connection string: ``url_name`` plus the password setting (or its ``_FILE``).

    The URL itself carries no password in either stack, so any character
    works in the password (a URL would need it percent-encoded).
    """
    url = read_str(env, url_name)
    password = read(env, password_name)
    return make_conninfo(url, password=password) if password else url


def migration_conninfo(env: Mapping[str, str]) -> str:
    """Where migrations connect: the schema owner (``MIGRATION_DATABASE_URL``), else the service's URL."""
    if env.get("MIGRATION_DATABASE_URL", "").strip():
        return database_conninfo(env, "MIGRATION_DATABASE_URL", "POSTGRES_MIGRATION_PASSWORD")
    return database_conninfo(env)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    mail = load_mail_settings(env)
    return Settings(
        tokens=read_token_settings(env, signer=True),
        database_url=database_conninfo(env),
        redis_url=read(env, "REDIS_URL"),
        redis_password=read(env, "REDIS_AUTH_PASSWORD"),
        bcrypt_rounds=read(env, "BCRYPT_ROUNDS"),
        login_max_failures=read(env, "LOGIN_MAX_FAILURES"),
        log_level=read(env, "LOG_LEVEL"),
        audit_retention_days=read(env, "AUDIT_RETENTION_DAYS"),
        password_queue_deadline=read(env, "PASSWORD_QUEUE_DEADLINE"),
        # A session ends this long after its login, however often it is refreshed.
        session_max_lifetime=read(env, "SESSION_MAX_LIFETIME"),
        mail=mail,
        mfa_keys=read_mfa_keys(env),
        mfa_required_roles=read_role_list(env, "MFA_REQUIRED_ROLES"),
        webauthn=read_relying_party(env, mail.public_url),
        oidc_signing_keys=read_oidc_signing_keys(env),
    )


def read_oidc_signing_keys(env: Mapping[str, str]) -> SigningKeys | None:
    """The ID-token keys of ``OIDC_SIGNING_KEYS_FILE``, or None when it is unset."""
    path = read(env, "OIDC_SIGNING_KEYS_FILE")
    return load_signing_keys(path) if path else None


def read_role_list(env: Mapping[str, str], name: str) -> frozenset[str]:
    """A comma-separated list of role names (empty: none)."""
    roles = frozenset(part.strip() for part in read(env, name).split(",") if part.strip())
    bad = sorted(role for role in roles if not ROLE.fullmatch(role))
    if bad:
        raise SettingsError(f"{name} must list role names of 1-32 characters of a-z 0-9 _ -")
    return roles
