"""Access tokens: how auth_service signs them and how api_service verifies them.

The rules follow API.md "Tokens" and RFC 8725: HS256 only, the key chosen by
a known ``kid``, header ``typ`` of ``at+jwt``, every claim required with its
type, ``iss``/``aud`` checked, a small clock leeway, and no header that could
point the verifier at another key (``jku``, ``jwk``, ``x5u``, ...).
"""

import base64
import hashlib
import hmac
import math
import re
import time
import uuid
from dataclasses import dataclass

import jwt
import orjson

from authcore.settings import TokenSettings

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
# Only these header fields are allowed; anything else (jku, jwk, x5u, x5c,
# crit, ...) is a trick or something we don't understand, so we refuse it.
ALLOWED_HEADER_FIELDS = frozenset({"alg", "typ", "kid"})
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "roles", "username")
# Three base64url segments, unpadded: PyJWT alone would also accept '=' padding
# and the '+/' alphabet, i.e. several encodings of the same token.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_TOKEN_LENGTH = 4096


class InvalidToken(Exception):
    """The token is not a valid access token; the reason is for logs, never for clients."""


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: str
    username: str
    session_id: str
    token_id: str
    issued_at: float
    expires_at: int
    roles: tuple[str, ...]


def issue_access_token(
    settings: TokenSettings,
    *,
    user_id: str,
    username: str,
    session_id: str,
    roles: list[str],
    now: float | None = None,
) -> tuple[str, AccessClaims]:
    """Sign a new access token with the first key; return it and its claims."""
    now = time.time() if now is None else now
    # iat keeps milliseconds (rounded down) so that a per-user cutoff set
    # during one second still lets a login later in that same second through.
    issued_at = math.floor(now * 1000) / 1000
    expires_at = int(now) + settings.access_ttl
    claims = AccessClaims(
        user_id=user_id,
        username=username,
        session_id=session_id,
        token_id=str(uuid.uuid4()),
        issued_at=issued_at,
        expires_at=expires_at,
        roles=tuple(sorted(roles)),
    )
    payload = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": user_id,
        "sid": session_id,
        "jti": claims.token_id,
        "iat": issued_at,
        "nbf": int(now),
        "exp": expires_at,
        "roles": list(claims.roles),
        "username": username,
    }
    key = settings.signing_key
    headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
    return jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers=headers), claims


class AccessTokenVerifier:
    """Verifies access tokens against every configured key.

    This is the hot path of every API request, so it does by hand what
    ``jwt.decode`` does, with the same rules (see the module docstring and
    API.md "Tokens") and a fraction of the cost: each key's HMAC state is
    prepared once (PyJWT re-prepares the key on every call), the header is
    parsed once, and the JSON is read with orjson. The unit tests pin the
    rules; PyJWT still signs.
    """

    def __init__(self, settings: TokenSettings):
        self._settings = settings
        self._macs = {key.kid: hmac.new(key.secret, digestmod=hashlib.sha256) for key in settings.keys}

    def verify(self, token: str) -> AccessClaims:
        """Return the token's claims, or raise ``InvalidToken``."""
        if len(token) > MAX_TOKEN_LENGTH or not COMPACT_JWS.fullmatch(token):
            raise InvalidToken("not a compact JWS")
        signing_input, _, signature = token.rpartition(".")
        header_segment, _, payload_segment = signing_input.partition(".")
        header = _json_segment(header_segment, "header")
        mac = self._mac_for(header).copy()
        mac.update(signing_input.encode("ascii"))
        if not hmac.compare_digest(mac.digest(), _b64decode(signature, "signature")):
            raise InvalidToken("bad signature")
        payload = _json_segment(payload_segment, "payload")
        _check_registered_claims(payload, self._settings, time.time())
        return _typed_claims(payload)

    def _mac_for(self, header: dict):
        if set(header) - ALLOWED_HEADER_FIELDS:
            raise InvalidToken("unexpected header fields")
        if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("wrong alg or typ")
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._macs:
            raise InvalidToken("unknown kid")
        return self._macs[kid]


def _b64decode(segment: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        raise InvalidToken(f"{what} is not base64url") from None


def _json_segment(segment: str, what: str) -> dict:
    try:
        value = orjson.loads(_b64decode(segment, what))
    except orjson.JSONDecodeError:
        raise InvalidToken(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not a JSON object")
    return value


def _check_registered_claims(payload: dict, settings: TokenSettings, now: float) -> None:
    """Presence of every claim, ``iss``/``aud`` (a single string: strict), and the times with leeway."""
    for name in REQUIRED_CLAIMS:
        if payload.get(name) is None:
            raise InvalidToken(f"missing claim {name}")
    if payload["iss"] != settings.issuer or not isinstance(payload["iss"], str):
        raise InvalidToken("wrong issuer")
    if payload["aud"] != settings.audience or not isinstance(payload["aud"], str):
        raise InvalidToken("wrong audience")
    try:
        expires, not_before, issued = int(payload["exp"]), int(payload["nbf"]), int(payload["iat"])
    except (TypeError, ValueError, OverflowError):
        raise InvalidToken("time claim is not a number") from None
    leeway = settings.leeway
    if expires <= now - leeway:
        raise InvalidToken("expired")
    if not_before > now + leeway or issued > now + leeway:
        raise InvalidToken("not yet valid")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _typed_claims(payload: dict) -> AccessClaims:
    """Check claim types PyJWT leaves alone and build ``AccessClaims``."""
    strings = ("sub", "sid", "jti", "username")
    if not all(isinstance(payload[name], str) and payload[name] for name in strings):
        raise InvalidToken("string claim of the wrong type")
    if not all(_is_number(payload[name]) for name in ("iat", "nbf", "exp")):
        raise InvalidToken("time claim of the wrong type")
    roles = payload["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("roles must be a list of strings")
    return AccessClaims(
        user_id=payload["sub"],
        username=payload["username"],
        session_id=payload["sid"],
        token_id=payload["jti"],
        issued_at=float(payload["iat"]),
        expires_at=int(payload["exp"]),
        roles=tuple(roles),
    )
