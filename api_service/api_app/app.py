"""The api_service application factory."""

import redis
from flask import Flask

from api_app.routes import bp as routes_bp
from api_app.settings import Settings, load_settings
from authcore.bearer import Authenticator
from authcore.errors import register_error_handlers
from authcore.redis_client import make_redis
from authcore.request_id import configure_logging, init_request_id
from authcore.revocation import RevocationList
from authcore.tokens import AccessTokenVerifier


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; settings default to the environment and are validated here."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    redis_client = make_redis(settings.redis_url)
    app.extensions["authenticator"] = Authenticator(
        AccessTokenVerifier(settings.tokens),
        RevocationList(redis_client, settings.tokens.access_ttl, settings.tokens.leeway),
    )
    init_request_id(app)
    register_error_handlers(app, unavailable_errors=(redis.RedisError,))
    app.register_blueprint(routes_bp)
    return app
