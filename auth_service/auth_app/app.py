"""The auth_service application factory."""

import psycopg
import psycopg_pool
import redis
from flask import Flask

from auth_app import audit, key_set, password_slots
from auth_app.access_token_routes import bp as access_tokens_bp
from auth_app.access_token_usage import start_usage_folding
from auth_app.access_tokens import AccessTokens
from auth_app.accounts import Accounts
from auth_app.audit.routes import bp as audit_bp
from auth_app.db import open_pool
from auth_app.email_routes import bp as mail_bp
from auth_app.email_verification import EmailVerification
from auth_app.factors.passkey_routes import bp as passkeys_bp
from auth_app.factors.passkey_service import Passkeys
from auth_app.factors.routes import bp as factors_bp
from auth_app.factors.service import build_second_factors
from auth_app.housekeeping import start_housekeeping
from auth_app.mail.limits import MailRequestLimits
from auth_app.mail.outbox import start_outbox_sender
from auth_app.oidc import wiring as oidc
from auth_app.password_reset import PasswordReset
from auth_app.revocation_rebuild import start_rebuild_watcher
from auth_app.routes import bp as routes_bp
from auth_app.routes import docs as docs_bp
from auth_app.sessions import Sessions
from auth_app.settings import Settings, load_settings
from auth_app.signup_ghosts import SignupGhosts
from auth_app.throttle import LoginThrottle
from authcore import metrics
from authcore.bearer import Authenticator
from authcore.flask_app import base_app
from authcore.redis_client import make_redis
from authcore.revocation import RevocationList
from authcore.tokens import AccessTokenVerifier

DEPENDENCY_ERRORS = (psycopg.OperationalError, psycopg_pool.PoolTimeout, redis.RedisError)
# What a data store answers when the service's role may not do something.
REFUSED_ERRORS = (psycopg.errors.InsufficientPrivilege, redis.exceptions.NoPermissionError)


def create_app(settings: Settings | None = None, pool_size: int = 8, background: bool = True) -> Flask:
    """Build the app; settings default to the environment and are validated here.

    With ``background`` three daemon threads run: one rebuilds the revocation
    list whenever Redis restarts or loses it, one prunes old rows, one sends
    the mail outbox (all off in unit tests).
    """
    settings = settings or load_settings()
    password_slots.configure(settings.password_queue_deadline)
    app = base_app(__name__, settings.log_level, DEPENDENCY_ERRORS, REFUSED_ERRORS)
    pool = open_pool(settings.database_url, max_size=pool_size)
    redis_client = make_redis(settings.redis_url, settings.redis_password)
    revocations = RevocationList(redis_client, settings.tokens.access_ttl, settings.tokens.leeway)
    sessions = Sessions(
        settings.tokens, pool, revocations, settings.session_max_lifetime, settings.mfa_required_roles
    )
    mail_limits = MailRequestLimits(redis_client)
    throttle = LoginThrottle(redis_client, settings.login_max_failures)
    second_factors = build_second_factors(settings, pool, revocations, sessions, throttle)
    app.extensions.update(
        pool=pool,
        redis=redis_client,
        sessions=sessions,
        accounts=Accounts(
            settings,
            pool,
            revocations,
            sessions,
            throttle,
            mail_limits,
            second_factors,
            SignupGhosts(redis_client, settings.mail.verification_token_ttl),
        ),
        second_factors=second_factors,
        passkeys=Passkeys(settings, pool, sessions, throttle, second_factors),
        authenticator=Authenticator(AccessTokenVerifier(settings.tokens), revocations),
        access_tokens=AccessTokens(pool, revocations),
    )
    app.extensions.update(
        password_reset=PasswordReset(settings, pool, revocations, mail_limits),
        email_verification=EmailVerification(pool, mail_limits, revocations),
    )
    app.register_blueprint(routes_bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(mail_bp)
    oidc_keys = settings.oidc_signing_keys
    key_set.init_app(app, settings.tokens, [oidc_keys.public_jwks] if oidc_keys else [])
    oidc.init_app(app, oidc_keys, settings.mail.public_url, pool, revocations, sessions, settings.tokens)
    app.register_blueprint(factors_bp)
    app.register_blueprint(passkeys_bp)
    app.register_blueprint(access_tokens_bp)
    audit.init_app(app)
    if background:
        start_rebuild_watcher(pool, revocations, settings.tokens)
        start_housekeeping(pool, settings.audit_retention_days, settings.session_max_lifetime)
        start_usage_folding(pool, redis_client)
        start_outbox_sender(pool, settings.mail)
        metrics.start_sampler(metrics.pool_sampler(pool))
    metrics.instrument(app)
    return app
