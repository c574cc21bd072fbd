"""gunicorn settings for api_service: the shared defaults, then this service's app."""

from api_app.settings import load_settings
from authcore.gunicorn_defaults import *  # noqa: F403
from authcore.gunicorn_defaults import exit_on_bad_settings

wsgi_app = "api_app:create_app()"


def on_starting(server):
    """Refuse to start with missing or weak settings."""
    exit_on_bad_settings(load_settings)
