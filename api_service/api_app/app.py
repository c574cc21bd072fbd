"""The api_service application factory."""

import redis
from flask import Flask

from api_app.dispatch import ThinDispatch, thin_routes
from api_app.gateway import GatewayVerify
from api_app.routes import bp as routes_bp
from api_app.settings import Settings, load_settings
from api_app.your_routes import bp as your_routes_bp
from authcore import metrics, pats
from authcore.bearer import Authenticator
from authcore.flask_app import base_app
from authcore.redis_client import make_redis
from authcore.refusals import log_refused_authorisations
from authcore.revocation import RevocationList
from authcore.token_cache import VerifiedTokenCache
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
    revocations = RevocationList(redis_client, settings.tokens.access_ttl, settings.tokens.leeway)
    authenticator = Authenticator(
        VerifiedTokenCache(AccessTokenVerifier(settings.tokens), settings.tokens.leeway),
        revocations,
        access_tokens=pats.reader_for(revocations, redis_client),
    )
    app.extensions["authenticator"] = authenticator
    app.register_blueprint(routes_bp)
    app.register_blueprint(your_routes_bp)
    # The hot paths, answered before Flask: protected GET routes declared
    # thin, and the gateway's verify endpoint (nginx's auth_request).
    # Flask's documented middleware pattern: wrap app.wsgi_app.
    app.wsgi_app = ThinDispatch(app.wsgi_app, thin_routes(app), authenticator)  # type: ignore[method-assign]
    app.wsgi_app = GatewayVerify(app.wsgi_app, authenticator)  # type: ignore[method-assign]
    log_refused_authorisations(app)
    metrics.instrument(app)
    return app
