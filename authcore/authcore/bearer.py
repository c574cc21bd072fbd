"""Reading ``Authorization: Bearer <token>`` (RFC 6750) and authenticating it.

``Authenticator.authenticate_header`` is the one authentication path of the
stack: the Flask decorator ``require_token``, api_service's thin dispatcher
and the gateway's verify endpoint all call it, so a check added there holds
everywhere.
"""

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from flask import Request, Response, current_app, g, request

from authcore.errors import Forbidden, InvalidTokenError, MfaRequired, MissingToken, json_response
from authcore.pats import PREFIX as PAT_PREFIX
from authcore.revocation import RevocationList
from authcore.token_verifier import TokenVerifier
from authcore.tokens import AccessClaims, InvalidToken

P = ParamSpec("P")
R = TypeVar("R")

# What a protected view may return: a JSON object (200), an object and a
# status, or a response it built itself.
ViewResult = dict[str, Any] | tuple[dict[str, Any], int] | Response


class AccessTokenAuthenticator(Protocol):
    """Anything resolving a ``pat_`` token to claims (``authcore.pats.AccessTokenReader``)."""

    def authenticate(self, token: str) -> AccessClaims:
        """The claims of a personal access token, or raise ``InvalidTokenError``."""
        ...


class ProtectedView(Protocol[P]):
    """A view wrapped by ``require_token``: its parameters, a ``Response``, and its policy."""

    role_policy: "RolePolicy"
    requires_mfa: bool
    thin_view: Callable[..., Any] | None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Response:
        """Authenticate the request, then answer with the view's result as a response."""
        ...


def bearer_token(request: Request) -> str:
    """Return the bearer token of the request, or raise ``MissingToken``/``InvalidTokenError``.

    Tokens in the query string or body are never looked at.
    """
    return token_from_header(request.headers.get("Authorization"))


def token_from_header(header: str | None) -> str:
    """The token of an ``Authorization`` header value, or raise ``MissingToken``/``InvalidTokenError``.

    The scheme is case-insensitive (RFC 7235); exactly one space separates it
    from the token.
    """
    if header is None:
        raise MissingToken()
    scheme, sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not sep:
        raise MissingToken("Use the Authorization: Bearer <token> scheme.")
    if not token or token != token.strip() or " " in token:
        raise InvalidTokenError()
    return token


@dataclass(frozen=True)
class Authenticator:
    """Verifies a request's access token, then checks the revocation list.

    ``verifier`` is anything with ``verify(token) -> AccessClaims`` raising
    ``InvalidToken`` (an ``AccessTokenVerifier``, or the ``VerifiedTokenCache`` in front of one).
    """

    verifier: TokenVerifier
    revocations: RevocationList
    # api_service's ``authcore.pats.AccessTokenReader``; None where personal
    # access tokens are refused (auth_service: they reach the resource side only).
    access_tokens: AccessTokenAuthenticator | None = None

    def authenticate_header(self, header: str | None) -> AccessClaims:
        """The verified, unrevoked claims of an ``Authorization`` header value, or a 401 error.

        A ``pat_`` token is resolved by ``access_tokens`` (its claims have no
        session and an empty ``amr``). A ``redis.RedisError`` propagates (every
        caller answers it 503): the stack fails closed when the revocation
        list can't be read.
        """
        token = token_from_header(header)
        if token.startswith(PAT_PREFIX):
            if self.access_tokens is None:
                raise InvalidTokenError("Personal access tokens are not accepted here.")
            return self.access_tokens.authenticate(token)
        try:
            claims = self.verifier.verify(token)
        except InvalidToken:
            raise InvalidTokenError() from None
        if self.revocations.is_revoked(claims):
            raise InvalidTokenError()
        return claims

    def authenticate(self, request: Request) -> AccessClaims:
        """``authenticate_header`` for a Flask request."""
        return self.authenticate_header(request.headers.get("Authorization"))


@dataclass(frozen=True)
class RolePolicy:
    """Which roles a route needs: all of ``all_of`` and, if given, at least one of ``any_of``."""

    all_of: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()

    def check(self, claims: AccessClaims) -> None:
        """Raise ``Forbidden`` unless the claims carry the roles this policy needs."""
        roles = claims.roles
        if not all(role in roles for role in self.all_of):
            raise Forbidden()
        if self.any_of and not any(role in roles for role in self.any_of):
            raise Forbidden()


def has_second_factor(claims: AccessClaims) -> bool:
    """The one rule: a token has a second factor exactly when its ``amr`` holds ``"mfa"``."""
    return "mfa" in claims.amr


def require_second_factor(claims: AccessClaims) -> None:
    """Raise 403 ``mfa_required`` unless the token has a second factor."""
    if not has_second_factor(claims):
        raise MfaRequired()


def role_policy(
    role: str | None = None, any_of: Iterable[str] = (), all_of: Iterable[str] = ()
) -> RolePolicy:
    """The ``RolePolicy`` of ``require_token``'s arguments (``role`` is one more ``all_of``)."""
    for name, value in (("any_of", any_of), ("all_of", all_of)):
        if isinstance(value, str):
            raise TypeError(f"{name} takes a tuple of role names, not one string")
    required = frozenset(all_of) | ({role} if role else set())
    return RolePolicy(all_of=required, any_of=frozenset(any_of))


def view_response(result: ViewResult) -> Response:
    """A protected view's return value as a response: a dict (200) or ``(dict, status)`` becomes JSON."""
    if isinstance(result, dict):
        return json_response(result)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], dict):
        return json_response(result[0], result[1])
    return result


def require_token(
    role: str | None = None,
    *,
    any_of: Iterable[str] = (),
    all_of: Iterable[str] = (),
    mfa: bool = False,
    thin: bool = False,
) -> Callable[[Callable[P, ViewResult]], ProtectedView[P]]:
    """Route decorator: a valid, unrevoked access token, carrying the roles asked for.

    ``role="admin"``          the token must carry ``admin``
    ``all_of=("a", "b")``     it must carry every one of them
    ``any_of=("a", "b")``     it must carry at least one of them
    ``mfa=True``              its session passed a second factor, else 403 ``mfa_required``

    The verified ``AccessClaims`` are in ``g.claims``, and are passed as
    the keyword argument ``claims`` to a view that has a parameter of that
    name. The view may return a dict, a ``(dict, status)`` pair or any Flask
    response. With ``thin=True`` the view promises to take only ``claims``,
    to use nothing else (no ``flask.request``, ``g`` or ``current_app``)
    and to return a dict or a pair: api_service then answers a ``GET`` of
    its fixed path without Flask's per-request machinery
    (``api_app.dispatch``). The app keeps its ``Authenticator`` in
    ``app.extensions["authenticator"]``.
    """
    policy = role_policy(role, any_of, all_of)

    def decorator(view: Callable[P, ViewResult]) -> ProtectedView[P]:
        parameters = inspect.signature(view).parameters
        wants_claims = "claims" in parameters
        if thin and list(parameters) != ["claims"]:
            raise TypeError(f"a thin view takes only its claims: {view.__qualname__}")

        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            authenticator: Authenticator = current_app.extensions["authenticator"]
            g.claims = claims = authenticator.authenticate(request)
            policy.check(claims)
            if mfa:
                require_second_factor(claims)
            if wants_claims:
                kwargs["claims"] = claims
            return view_response(view(*args, **kwargs))

        protected = cast(ProtectedView[P], wrapper)
        protected.role_policy = policy
        protected.requires_mfa = mfa
        protected.thin_view = view if thin else None
        return protected

    return decorator
