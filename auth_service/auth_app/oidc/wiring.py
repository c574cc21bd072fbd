"""Putting the OpenID Connect provider into the app, when it has ID-token keys."""

from flask import Flask
from psycopg_pool import ConnectionPool

from auth_app.oidc import client_routes, discovery
from auth_app.oidc.clients import Clients
from auth_app.oidc.signing_keys import SigningKeys
from authcore.revocation import RevocationList


def init_app(
    app: Flask, keys: SigningKeys | None, issuer: str, pool: ConnectionPool, revocations: RevocationList
) -> None:
    """Register the provider's routes and services; without keys (no OIDC_SIGNING_KEYS_FILE), none."""
    if keys is None:
        return
    app.extensions["oidc_clients"] = Clients(pool, revocations, keys.algorithms)
    app.extensions["oidc_discovery"] = discovery.init_app_document(issuer, keys.algorithms)
    app.register_blueprint(client_routes.bp)
    app.register_blueprint(discovery.bp)
