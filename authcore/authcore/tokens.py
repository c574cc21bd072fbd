"""Access tokens: how auth_service signs them and how api_service verifies them.

The rules follow docs/API.md "Tokens" and RFC 8725: the one algorithm
``JWT_ALG`` names (HS256, EdDSA or ES256; never ``none``, never another one),
the key chosen by a known ``kid`` and pinned to that algorithm and key type,
header ``typ`` of ``at+jwt``, every claim required with its type,
``iss``/``aud`` checked, a small clock leeway, and no header that could point
the verifier at another key (``jku``, ``jwk``, ``x5u``, ...).
"""

import base64
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.types import Options

from authcore import metrics
from authcore.keys import PrivateKey
from authcore.settings import TokenSettings

ALGORITHM = "HS256"  # the default JWT_ALG
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
# Only these header fields are allowed; anything else (jku, jwk, x5u, x5c,
# crit, ...) is a trick or something we don't understand, so we refuse it.
ALLOWED_HEADER_FIELDS = frozenset({"alg", "typ", "kid"})
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "roles", "username")
# Three base64url segments, unpadded, and an HS256 signature in its one
# canonical spelling: 43 characters whose last one leaves its 2 unused bits
# zero. A base64 decoder (PyJWT's too) ignores those bits and accepts '='
# padding and the '+/' alphabet, i.e. several spellings of one token.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
# EdDSA (Ed25519) and ES256 (raw r||s, RFC 7518 3.4) signatures are 64 bytes:
# 86 characters, the last one leaving its 4 unused bits zero.
COMPACT_JWS_64 = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{85}[AQgw]")
SIGNATURE_SHAPES = {"HS256": COMPACT_JWS, "EdDSA": COMPACT_JWS_64, "ES256": COMPACT_JWS_64}
MAX_TOKEN_LENGTH = 4096


class InvalidToken(Exception):
    """The token is not a valid access token; the reason is for logs, never for clients.

    ``result`` is the metrics outcome: malformed, expired, bad_signature or unknown_kid.
    """

    def __init__(self, message: str, result: str = "malformed"):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: str
    username: str
    # None for a personal access token (authcore.pats): it belongs to no session.
    session_id: str | None
    token_id: str
    issued_at: float
    expires_at: int
    roles: tuple[str, ...]
    # Optional: tokens issued before the claim existed lack it and read as False.
    email_verified: bool = False
    amr: tuple[str, ...] = ()


def issue_access_token(
    settings: TokenSettings,
    *,
    user_id: str,
    username: str,
    session_id: str,
    roles: list[str],
    email_verified: bool = False,
    amr: tuple[str, ...] | list[str] = (),
    now: float | None = None,
) -> tuple[str, AccessClaims]:
    """Sign a new access token with the first key; return it and its claims.

    ``amr`` (RFC 8176) says how the session signed in; the token has a
    second factor exactly when it holds ``"mfa"``.
    """
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
        email_verified=email_verified,
        amr=tuple(sorted(set(amr))),
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
        "email_verified": email_verified,
        "amr": list(claims.amr),
    }
    kid, key = _signing_key(settings)
    headers = {"kid": kid, "typ": ACCESS_TOKEN_TYPE}
    metrics.TOKENS_ISSUED.labels(kind="access").inc()
    return jwt.encode(payload, key, algorithm=settings.algorithm, headers=headers), claims


def _signing_key(settings: TokenSettings) -> tuple[str, bytes | PrivateKey]:
    """The kid and key that sign: the first HS256 secret, or the first private key of the set."""
    if not settings.asymmetric:
        return settings.signing_key.kid, settings.signing_key.secret
    first = settings.asymmetric_keys[0]
    if first.private_key is None:
        # A verifier (api_service) holds public keys only: it can't sign, by design.
        raise RuntimeError("this process holds public keys only and can't sign tokens")
    return first.kid, first.private_key


class AccessTokenVerifier:
    """Verifies access tokens against every configured key.

    This is the hot path of every API request. PyJWT does the verifying;
    each key is handed to it as a ``PyJWK``, prepared once, because given raw
    bytes PyJWT prepares the HMAC key again on every call (~35 us of ~60).
    Each ``PyJWK`` carries its algorithm, and only the configured one is
    accepted: a public key can't be turned into an HMAC secret, and an
    Ed25519 key can't verify under ES256.
    """

    def __init__(self, settings: TokenSettings):
        self._settings = settings
        self._algorithm = settings.algorithm
        self._shape = SIGNATURE_SHAPES[settings.algorithm]
        if settings.asymmetric:
            self._keys = {key.kid: key.verifying_key() for key in settings.asymmetric_keys}
        else:
            self._keys = {
                key.kid: jwt.PyJWK({"kty": "oct", "k": _b64url(key.secret), "alg": ALGORITHM})
                for key in settings.keys
            }
        self._options: Options = {"require": list(REQUIRED_CLAIMS), "strict_aud": True}

    def verify(self, token: str) -> AccessClaims:
        """Return the token's claims, or raise ``InvalidToken`` (counted by its result)."""
        try:
            return self._verify(token)
        except InvalidToken as exc:
            metrics.count_token(exc.result, token)
            raise

    def _verify(self, token: str) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH or not self._shape.fullmatch(token):
            raise InvalidToken("not a canonical compact JWS")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"bad header: {exc}") from None
        try:
            payload = jwt.decode(
                token,
                self._key_for(header),
                algorithms=[self._algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken(f"rejected: {exc}", "expired") from None
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken(f"rejected: {exc}", "bad_signature") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"rejected: {exc}") from None
        return _typed_claims(payload)

    def _key_for(self, header: dict[str, Any]) -> jwt.PyJWK:
        if set(header) - ALLOWED_HEADER_FIELDS:
            raise InvalidToken("unexpected header fields")
        if header.get("alg") != self._algorithm or header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("wrong alg or typ")
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._keys:
            raise InvalidToken("unknown kid", "unknown_kid")
        key = self._keys[kid]
        if key.algorithm_name != self._algorithm:
            # Never reached with keys loaded by authcore.settings; pinned all the same.
            raise InvalidToken("key of another algorithm")
        return key


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# The latest instant a time claim may name: 9999-12-31T23:59:59Z. Anything
# later (1e30, 10**400, Infinity, NaN: PyJWT's JSON reader accepts them all)
# overflows dates and 64-bit integers further on, so it is an invalid token.
MAX_EPOCH_SECONDS = 253402300799


def _is_epoch_seconds(value: object) -> bool:
    """A JSON number (not a boolean) that is a finite time between 1970 and 9999."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return 0 <= value <= MAX_EPOCH_SECONDS  # False for NaN, too


def _typed_claims(payload: dict[str, Any]) -> AccessClaims:
    """Check claim types PyJWT leaves alone and build ``AccessClaims``."""
    strings = ("sub", "sid", "jti", "username")
    if not all(isinstance(payload[name], str) and payload[name] for name in strings):
        raise InvalidToken("string claim of the wrong type")
    if not all(_is_epoch_seconds(payload[name]) for name in ("iat", "nbf", "exp")):
        raise InvalidToken("time claim of the wrong type or out of range")
    roles = payload["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("roles must be a list of strings")
    email_verified = payload.get("email_verified", False)
    if not isinstance(email_verified, bool):
        raise InvalidToken("email_verified must be a boolean")
    # Optional: tokens issued before the claim existed lack it and read as ().
    amr = payload.get("amr", [])
    if not isinstance(amr, list) or not all(isinstance(value, str) for value in amr):
        raise InvalidToken("amr must be a list of strings")
    return AccessClaims(
        user_id=payload["sub"],
        username=payload["username"],
        session_id=payload["sid"],
        token_id=payload["jti"],
        issued_at=float(payload["iat"]),
        expires_at=int(payload["exp"]),
        roles=tuple(roles),
        email_verified=email_verified,
        amr=tuple(amr),
    )
