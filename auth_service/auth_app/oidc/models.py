"""What authlib's server asks of our rows: a client, an authorization code, a signed-in user.

authlib owns the protocol rules and calls these methods; they only answer
from our rows (docs: authlib.oauth2.rfc6749.ClientMixin, AuthorizationCodeMixin,
authlib.oidc.core.AuthorizationCodeMixin).
"""

import uuid
from dataclasses import dataclass

from auth_app.oidc.client_store import ClientRow
from auth_app.oidc.clients import PUBLIC, secret_matches
from auth_app.oidc.discovery import SCOPES
from auth_app.oidc.grant_store import CodeRow

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class Client:
    """A registered client as authlib sees it (``authlib.oauth2.rfc6749.ClientMixin``)."""

    row: ClientRow

    @property
    def client_id(self) -> str:
        """The client's id."""
        return self.row.client_id

    @property
    def id_token_signed_response_alg(self) -> str:
        """The algorithm of this client's ID tokens (authlib reads this attribute)."""
        return self.row.id_token_signed_response_alg

    def get_client_id(self) -> str:
        """The client's id."""
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        """None: every request names its redirect_uri (compared exactly)."""
        return None

    def get_allowed_scope(self, scope: str) -> str:
        """The requested scopes we know, in the order asked."""
        if not scope:
            return ""
        return " ".join(part for part in dict.fromkeys(scope.split()) if part in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match with a registered URI (RFC 6749 3.1.2.3, OAuth 2.0 Security BCP)."""
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison of the secret's SHA-256."""
        return secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients authenticate with ``none`` only; confidential ones with their secret only."""
        if self.row.client_type == PUBLIC:
            return method == "none"
        return method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        """The code flow only (no implicit, no hybrid)."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Codes and refresh tokens."""
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class AuthorizationCode:
    """A claimed code as authlib sees it (OAuth 2.0 and OpenID Connect code mixins)."""

    row: CodeRow

    @property
    def code_challenge(self) -> str:
        """PKCE's challenge (authlib's CodeChallenge reads this attribute)."""
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        """Always S256 (plain is refused at the authorization endpoint)."""
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        """The redirect_uri of the authorization request: the token request must repeat it."""
        return self.row.redirect_uri

    def get_scope(self) -> str:
        """The scopes granted."""
        return self.row.scope

    def get_nonce(self) -> str | None:
        """The request's nonce, returned untouched in the ID token."""
        return self.row.nonce

    def get_auth_time(self) -> int:
        """When the person signed in (the browser session's start), in epoch seconds."""
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> None:
        """No acr values are offered."""
        return None

    def get_amr(self) -> list[str]:
        """How the person signed in (RFC 8176)."""
        return sorted(self.row.amr)


@dataclass(frozen=True)
class SignedInUser:
    """The user a code was issued to, and the code (the token generator needs both)."""

    id: uuid.UUID
    username: str
    email: str
    email_verified: bool
    code: AuthorizationCode | None = None

    def get_user_id(self) -> str:
        """The ``sub``: the user's id."""
        return str(self.id)
