"""gunicorn settings for auth_service: the shared defaults, then this service's app."""

import shutil
import tempfile

from auth_app import password_slots
from auth_app.db import database_reachable
from auth_app.settings import load_settings
from authcore.gunicorn_defaults import *  # noqa: F403
from authcore.gunicorn_defaults import exit_on_bad_settings, refuse_to_start
from authcore.logging_json import read_log_format
from authcore.metrics_listener import metrics_port, start_metrics_listener

wsgi_app = "auth_app:create_app()"


def on_starting(server):
    """Refuse to start with missing or weak settings, or without a database; start the metrics listener."""
    settings = exit_on_bad_settings(load_settings)
    exit_on_bad_settings(metrics_port)
    exit_on_bad_settings(read_log_format)
    if not database_reachable(settings.database_url):
        refuse_to_start("cannot reach the database at DATABASE_URL")
    start_metrics_listener("auth_service", settings.redis_url, settings.database_url, settings.redis_password)
    # The workers forked from here share one bcrypt slot per worker (auth_app/password_slots.py).
    server.password_slots_dir = tempfile.mkdtemp(prefix="authstack-password-slots-")
    password_slots.share_slots_between_workers(server.password_slots_dir, server.cfg.workers)


def on_exit(server):
    """Remove the password slots' lock files."""
    shutil.rmtree(getattr(server, "password_slots_dir", ""), ignore_errors=True)
