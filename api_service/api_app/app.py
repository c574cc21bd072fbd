"""The api_service application factory."""

import redis
from flask import Flask

from api_app.fast_path import MeFastPath
from api_app.routes import bp as routes_bp
from api_app.settings import Settings, load_settings
from authcore.bearer import Authenticator
from authcore.flask_app import base_app
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList
from authcore.tokens import AccessTokenVerifier


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; settings default to the environment and are validated here."""
    settings = settings or load_settings()
    app = base_app(
        __name__,
        settings.log_level,
        unavailable_errors=(redis.RedisError,),
        refused_errors=(redis.exceptions.NoPermissionError,),
    )
    redis_client = make_redis(settings.redis_url, settings.redis_password)
    authenticator = Authenticator(
        AccessTokenVerifier(settings.tokens),
        RevocationList(redis_client, settings.tokens.access_ttl, settings.tokens.leeway),
    )
    app.extensions["authenticator"] = authenticator
    app.register_blueprint(routes_bp)
    # The hot path: a good token on GET /api/v1/me is answered before Flask.
    app.wsgi_app = MeFastPath(app.wsgi_app, authenticator)
    return app
