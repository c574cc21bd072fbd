"""Putting the OpenID Connect provider into the app, when it has ID-token keys."""

from flask import Flask
from psycopg_pool import ConnectionPool

from auth_app.oidc import client_routes, discovery, logout, routes, token_routes
from auth_app.oidc.clients import Clients
from auth_app.oidc.server import Provider, build_server
from auth_app.oidc.signing_keys import SigningKeys
from auth_app.sessions import Sessions
from authcore.revocation import RevocationList
from authcore.settings import TokenSettings
from authcore.tokens import AccessTokenVerifier


def init_app(
    app: Flask,
    keys: SigningKeys | None,
    issuer: str,
    pool: ConnectionPool,
    revocations: RevocationList,
    sessions: Sessions,
    tokens: TokenSettings,
) -> None:
    """Register the provider's routes and services; without keys (no OIDC_SIGNING_KEYS_FILE), none."""
    if keys is None:
        return
    provider = Provider(pool, revocations, sessions, keys, issuer, tokens)
    app.extensions.update(
        oidc_clients=Clients(pool, revocations, keys.algorithms),
        oidc_discovery=discovery.init_app_document(issuer, keys.algorithms),
        oidc_provider=provider,
        oidc_server=build_server(app, provider),
        oidc_verifier=AccessTokenVerifier(tokens),
    )
    app.register_blueprint(client_routes.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(routes.bp)
    app.register_blueprint(token_routes.bp)
    app.register_blueprint(logout.bp)
