"""gunicorn settings for auth_service: the shared defaults, then this service's app."""

from auth_app.db import database_reachable
from auth_app.settings import load_settings
from authcore.gunicorn_defaults import *  # noqa: F403
from authcore.gunicorn_defaults import exit_on_bad_settings, refuse_to_start

wsgi_app = "auth_app:create_app()"


def on_starting(server):
    """Refuse to start with missing or weak settings, or without a database."""
    settings = exit_on_bad_settings(load_settings)
    if not database_reachable(settings.database_url):
        refuse_to_start("cannot reach the database at DATABASE_URL")
