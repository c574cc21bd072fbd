"""gunicorn settings for api_service: the shared defaults, then this service's app."""

from authcore.gunicorn_defaults import *  # noqa: F403

wsgi_app = "api_app:create_app()"
