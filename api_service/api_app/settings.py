"""api_service settings, read and validated once at start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from authcore.settings import TokenSettings, read_password, read_str, read_token_settings


@dataclass(frozen=True)
class Settings:
    """Everything api_service reads from the environment."""

    tokens: TokenSettings
    redis_url: str
    log_level: str
    redis_password: str | None = field(default=None, repr=False)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    return Settings(
        tokens=read_token_settings(env),
        redis_url=read_str(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_password=read_password(env, "REDIS_API_PASSWORD"),
        log_level=read_str(env, "LOG_LEVEL", "INFO"),
    )
