"""api_service settings, read and validated once at start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from authcore.settings import TokenSettings, read, read_token_settings


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
        redis_url=read(env, "REDIS_URL"),
        redis_password=read(env, "REDIS_API_PASSWORD"),
        log_level=read(env, "LOG_LEVEL"),
    )
