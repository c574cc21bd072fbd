"""gunicorn settings for api_service: the shared defaults, then this service's app."""

from api_app.settings import load_settings
from authcore.gunicorn_defaults import *  # noqa: F403
from authcore.gunicorn_defaults import exit_on_bad_settings
from authcore.logging_json import read_log_format
from authcore.metrics_listener import metrics_port, start_metrics_listener

wsgi_app = "api_app:create_app()"


def on_starting(server):
    """Refuse to start with missing or weak settings; start the metrics listener."""
    settings = exit_on_bad_settings(load_settings)
    exit_on_bad_settings(metrics_port)
    exit_on_bad_settings(read_log_format)
    start_metrics_listener("api_service", settings.redis_url, redis_password=settings.redis_password)
