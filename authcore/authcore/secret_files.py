"""Secrets read from files (Docker Swarm and Kubernetes secrets): ``NAME_FILE``.

An orchestrator mounts each secret as a file; ``JWT_SECRET_FILE=/run/secrets/jwt_secret``
then stands for ``JWT_SECRET`` with the file's content. The value goes into
the process environment before the settings are read, so everything that
reads the plain name (the settings, libpq) sees it, and the gunicorn workers
inherit it. ``POSTGRES_PASSWORD_FILE`` is the name the postgres image takes
too, so one secret file serves the database and the services; the services
hand it to libpq as ``PGPASSWORD``.
"""

import os
from collections.abc import MutableMapping
from pathlib import Path

from authcore.settings import SettingsError

# NAME_FILE setting -> the variable its content becomes.
FILE_SETTINGS = {
    "JWT_SECRET_FILE": "JWT_SECRET",
    "JWT_KEYS_FILE": "JWT_KEYS",
    "POSTGRES_PASSWORD_FILE": "PGPASSWORD",
}


def load_secret_files(env: MutableMapping[str, str] | None = None) -> None:
    """Put each ``*_FILE`` setting's file content into its variable; raise on a conflict or bad file."""
    env = os.environ if env is None else env
    for file_setting, target in FILE_SETTINGS.items():
        path = env.get(file_setting, "").strip()
        if not path:
            continue
        if env.get(target, "").strip():
            raise SettingsError(f"{file_setting} and {target} are both set; keep one")
        try:
            value = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise SettingsError(f"{file_setting} names a file that cannot be read") from None
        # A trailing newline is how most tools write a one-line file.
        value = value.rstrip("\r\n")
        if not value:
            raise SettingsError(f"{file_setting} names an empty file")
        env[target] = value
        # Read once: a second call (the master validates each group of
        # settings in turn) must not take its own result for a conflict.
        del env[file_setting]
