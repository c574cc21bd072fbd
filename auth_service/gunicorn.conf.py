"""gunicorn settings for auth_service: the shared defaults, then this service's app."""

from authcore.gunicorn_defaults import *  # noqa: F403

wsgi_app = "auth_app:create_app()"
