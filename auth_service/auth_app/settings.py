"""auth_service settings, read and validated once at start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from auth_app.mail_settings import MailSettings, load_mail_settings
from authcore.settings import SettingsError, TokenSettings, read_int, read_str, read_token_settings


@dataclass(frozen=True)
class Settings:
    """Everything auth_service reads from the environment."""

    tokens: TokenSettings
    database_url: str
    redis_url: str
    bcrypt_rounds: int
    login_max_failures: int
    log_level: str
    audit_retention_days: int
    mail: MailSettings
    password_queue_deadline: float = 2.0


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    return Settings(
        tokens=read_token_settings(env),
        database_url=read_str(env, "DATABASE_URL"),
        redis_url=read_str(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        bcrypt_rounds=read_int(env, "BCRYPT_ROUNDS", 12, 4, 16),
        login_max_failures=read_int(env, "LOGIN_MAX_FAILURES", 5, 1, 1000),
        log_level=read_str(env, "LOG_LEVEL", "INFO"),
        audit_retention_days=read_int(env, "AUDIT_RETENTION_DAYS", 365, 1, 36500),
        password_queue_deadline=read_seconds(env, "PASSWORD_QUEUE_DEADLINE", 2.0, 0.0, 30.0),
        mail=load_mail_settings(env),
    )


def read_seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """Return ``env[name]`` as seconds (a decimal number) within [low, high], else ``default``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds")
    return value
