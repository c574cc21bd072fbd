"""authlib's authorization server, given our storage and policy.

authlib checks the protocol: response and grant types, exact redirect URIs,
PKCE, client authentication, prompt values, the ID token's claims and
signature. This module supplies what it asks for: clients and codes from
Postgres (``grant_store``), sessions from ``auth_app.sessions`` (an OIDC
access token is an ordinary access token of the client's own session), the
ID-token keys, and the policy choices authlib leaves open: PKCE with S256
for every client, codes single use (a second use ends what the first opened).
"""

import hashlib
import time
import uuid
import warnings
from typing import Any, ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Request, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Request, request
from flask import request as flask_request
from psycopg import Connection
from psycopg_pool import ConnectionPool

from auth_app import audit, store
from auth_app.oidc import client_store, grant_store
from auth_app.oidc.models import AuthorizationCode, Client, SignedInUser
from auth_app.oidc.signing_keys import SigningKeys
from auth_app.revoking import end_session
from auth_app.sessions import ClientInfo, Sessions
from authcore import metrics
from authcore.revocation import RevocationList
from authcore.settings import TokenSettings

ID_TOKEN_LIFETIME = 300  # seconds: an ID token is read once, at sign-in


def hash_code(code: str) -> bytes:
    """The stored form of a code (256 random bits: SHA-256 is enough)."""
    return hashlib.sha256(code.encode()).digest()


class S256Only(CodeChallenge):
    """PKCE for every client, S256 only: a request without a challenge, or with ``plain``, is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse a missing challenge or method before authlib checks their shape."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge'.", redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class Provider:
    """The pieces authlib's grants call back into, built once per worker."""

    def __init__(
        self,
        pool: ConnectionPool,
        revocations: RevocationList,
        sessions: Sessions,
        keys: SigningKeys,
        issuer: str,
        tokens: TokenSettings,
    ):
        self.pool = pool
        self.revocations = revocations
        self.sessions = sessions
        self.keys = keys
        self.issuer = issuer
        self.tokens = tokens

    def query_client(self, client_id: str) -> Client | None:
        """The registered client ``client_id``, or None."""
        if not isinstance(client_id, str) or len(client_id) > 200:
            return None
        with self.pool.connection() as conn:
            row = client_store.find_client(conn, client_id)
        return Client(row) if row else None

    def claim_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """Take a code once; a second use ends the session its first use opened and answers None."""
        if not isinstance(code, str) or len(code) > 200:
            return None
        code_hash = hash_code(code)
        with self.pool.connection() as conn, conn.transaction():
            row = grant_store.claim_code(conn, code_hash)
            if row is None:
                self._code_reused(conn, code_hash)
                return None
        if row.client_id != client.client_id:
            return None  # another client's code: used up, and refused
        return AuthorizationCode(row)

    def _code_reused(self, conn: Connection, code_hash: bytes) -> None:
        reused = grant_store.mark_code_reused(conn, code_hash)
        if reused is None:
            return
        if reused.issued_session_id is not None:
            end_session(conn, self.revocations, reused.issued_session_id, reused.user_id, "oidc_code_reused")
        audit.record(
            conn, "oidc_code_reused", result=audit.FAILURE, target=reused.user_id,
            details={"client_id": reused.client_id},
        )  # fmt: skip

    def save_code(self, code: str, oauth_request: Any) -> None:
        """Store a new code for the signed-in person of this request."""
        user: SignedInUser = oauth_request.user
        browser = oauth_request.browser_session
        data = oauth_request.payload.data
        with self.pool.connection() as conn, conn.transaction():
            grant_store.insert_code(
                conn,
                hash_code(code),
                {
                    "client_id": oauth_request.client.client_id,
                    "user_id": user.id,
                    "browser_session_id": browser.session_id,
                    "redirect_uri": oauth_request.payload.redirect_uri,
                    "scope": oauth_request.scope or "",
                    "nonce": data.get("nonce"),
                    "code_challenge": data.get("code_challenge"),
                    "code_challenge_method": data.get("code_challenge_method"),
                    "auth_time": browser.auth_time,
                    "amr": browser.amr,
                },
            )
            audit.record(
                conn, "oidc_authorized", actor=user.id, target=user.id, session=browser.session_id,
                details={"client_id": oauth_request.client.client_id, "scope": oauth_request.scope or ""},
            )  # fmt: skip

    def user_of_code(self, code: AuthorizationCode) -> SignedInUser | None:
        """The code's user, if still enabled."""
        with self.pool.connection() as conn:
            user = store.find_user_by_id(conn, code.row.user_id)
        if user is None or user.disabled_at is not None:
            return None
        return SignedInUser(user.id, user.username, user.email, bool(user.email_verified), code)

    def issue(
        self, client: Client, user: SignedInUser, scope: str, include_refresh_token: bool
    ) -> dict[str, Any]:
        """Open the client's session for a code; its tokens. Refused if the code was reused meanwhile."""
        code = user.code
        if code is None:
            raise InvalidRequestError("No code.")
        code_hash = code.row.code_hash

        def still_first_use(conn: Connection, session_id: uuid.UUID) -> bool:
            if not grant_store.link_issued_session(conn, code_hash, session_id, scope):
                return False
            audit.record(
                conn, "oidc_token_issued", actor=user.id, target=user.id, session=session_id,
                details={"client_id": client.client_id, "grant_type": "authorization_code", "scope": scope},
            )  # fmt: skip
            return True

        info = ClientInfo(request.headers.get("User-Agent", ""), request.remote_addr or "")
        tokens = self.sessions.open_for_client(
            user.id, info, tuple(code.row.amr), client.client_id, still_first_use
        )
        if tokens is None:
            raise InvalidGrantError("The code is invalid, expired or used.")
        answer = {
            "access_token": tokens["access_token"],
            "token_type": "Bearer",
            "expires_in": tokens["expires_in"],
            "scope": scope,
        }
        if "offline_access" in scope.split():
            answer["refresh_token"] = tokens["refresh_token"]
        return answer


class CodeGrant(grants.AuthorizationCodeGrant):
    """The authorization code grant: client secret (basic or post) or, for public clients, none + PKCE."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]
    AUTHORIZATION_CODE_LENGTH = 43

    def _provider(self) -> Provider:
        provider: Provider = self.server.provider
        return provider

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Store the code (hashed) with everything the token request needs."""
        self._provider().save_code(code, request)

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """Claim the code (single use)."""
        return self._provider().claim_code(code, client)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing: a used code stays (marked used) until it expires, so a second use is recognised."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> SignedInUser | None:
        """The code's user, if still enabled."""
        return self._provider().user_of_code(authorization_code)


class IdToken(OpenIDCode):
    """The ID token: our keys, our issuer, the client's algorithm, claims by scope."""

    def __init__(self, provider: Provider):
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """Nonces are the client's to check (returned untouched); we keep no list of them."""
        return False

    def resolve_client_private_key(self, client: Client) -> Any:
        """The signing key of the client's algorithm."""
        return self.provider.keys.signing_key(client.id_token_signed_response_alg)

    def get_encode_header(self, client: Client) -> dict[str, str]:
        """alg and kid, so relying parties pick the key from the published set."""
        alg = client.id_token_signed_response_alg
        return {"alg": alg, "kid": str(self.provider.keys.signing_key(alg).kid), "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        """iss and aud; exp ID_TOKEN_LIFETIME from now."""
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user: SignedInUser, scope: str) -> UserInfo:
        """sub always; email and email_verified with ``email``, preferred_username with ``profile``."""
        return user_info(user, scope)

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        """authlib's encoding; EdDSA's deprecation notice (RFC 9864) is not an error here."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoded: str = super().encode_id_token(token, request)
        return encoded


def user_info(user: SignedInUser, scope: str) -> UserInfo:
    """The claims about ``user`` that ``scope`` allows (ID token and userinfo)."""
    scopes = scope.split()
    info = UserInfo(sub=str(user.id))
    if "email" in scopes:
        info["email"] = user.email
        info["email_verified"] = user.email_verified
    if "profile" in scopes:
        info["preferred_username"] = user.username
    return info


class IssuerRequest(FlaskOAuth2Request):
    """A request as the browser and clients addressed it: at the issuer (PUBLIC_URL).

    nginx gives the service a fixed Host, so Flask's own URL is not the one
    the client used; authlib's transport check (https, or http on loopback)
    is made on the issuer instead, which settings already hold to that rule.
    """

    def __init__(self, flask_request: Request, issuer: str):
        OAuth2Request.__init__(
            self,
            method=flask_request.method,
            uri=issuer + flask_request.full_path,
            headers=flask_request.headers,
        )
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)


class IssuerServer(AuthorizationServer):
    """authlib's Flask server, reading requests at the issuer's address."""

    provider: Provider

    def create_oauth2_request(self, request: Any) -> IssuerRequest:
        """The current Flask request, addressed at the issuer."""
        return IssuerRequest(flask_request, self.provider.issuer)


def build_server(app: Flask, provider: Provider) -> AuthorizationServer:
    """authlib's Flask authorization server with our grant, PKCE, ID token and RFC 9207 iss."""

    def save_token(token: dict[str, Any], oauth_request: Any) -> None:
        metrics.TOKENS_ISSUED.labels(kind="oidc").inc()

    server = IssuerServer(app, query_client=provider.query_client, save_token=save_token)
    server.provider = provider

    def generate(
        grant_type: str, client: Client, user: SignedInUser, scope: str, expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:  # fmt: skip
        return provider.issue(client, user, scope or "", include_refresh_token)

    server.register_token_generator("default", generate)
    server.register_grant(CodeGrant, [IdToken(provider), S256Only(required=True)])

    class Issuer(IssuerParameter):
        def get_issuer(self) -> str:
            return provider.issuer

    server.register_extension(Issuer())
    return server
