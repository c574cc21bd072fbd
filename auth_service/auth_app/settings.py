"""auth_service settings, read and validated once at start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from auth_app.mail_settings import MailSettings, load_mail_settings
from authcore.settings import TokenSettings, read_int, read_str, read_token_settings


@dataclass(frozen=True)
class Settings:
    """Everything auth_service reads from the environment."""

    tokens: TokenSettings
    database_url: str
    redis_url: str
    bcrypt_rounds: int
    login_max_failures: int
    log_level: str
    mail: MailSettings


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
        mail=load_mail_settings(env),
    )
