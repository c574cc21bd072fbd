"""``GET /.well-known/openid-configuration``: the provider's metadata (OpenID Connect Discovery 1.0).

The issuer is ``PUBLIC_URL``: the address users' browsers and the relying
parties reach the stack at. Every endpoint is under it.
"""

from typing import Any

import orjson
from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

PATH = "/.well-known/openid-configuration"
PREFIX = "/auth/oauth2"
# What relying parties may ask for: identity, email, the name, and a refresh token.
SCOPES = ("openid", "profile", "email", "offline_access")
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Cached like the key set: the document changes only with a restart.
MAX_AGE_SECONDS = 300

bp = Blueprint("oidc_discovery", __name__)


def endpoints(issuer: str) -> dict[str, str]:
    """The provider's endpoint URLs under ``issuer``."""
    return {
        "authorization_endpoint": f"{issuer}{PREFIX}/authorize",
        "token_endpoint": f"{issuer}{PREFIX}/token",
        "userinfo_endpoint": f"{issuer}{PREFIX}/userinfo",
        "revocation_endpoint": f"{issuer}{PREFIX}/revoke",
        "introspection_endpoint": f"{issuer}{PREFIX}/introspect",
        "end_session_endpoint": f"{issuer}{PREFIX}/logout",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
    }


def metadata(issuer: str, algorithms: tuple[str, ...]) -> dict[str, Any]:
    """The discovery document of a provider at ``issuer`` signing ID tokens with ``algorithms``."""
    return {
        "issuer": issuer,
        **endpoints(issuer),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(algorithms),
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "email",
            "email_verified",
            "preferred_username",
        ],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }


def init_app_document(issuer: str, algorithms: tuple[str, ...]) -> bytes:
    """The serialised document (built once at start)."""
    return orjson.dumps(metadata(issuer, algorithms))


@bp.get(PATH)
def openid_configuration() -> ResponseReturnValue:
    """The provider's metadata, public and cacheable."""
    body: bytes = current_app.extensions["oidc_discovery"]
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response
