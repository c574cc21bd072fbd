"""Reading and validating settings from the environment.

Both services read the same names (see docs/OPERATIONS.md "Settings"). A problem is
reported as a ``SettingsError`` naming the setting, never its value, so a
secret can't end up in a log.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from authcore import keys as key_sets
from authcore.secret_strength import HOW_TO_GENERATE, MIN_BYTES, weakness

MIN_SECRET_BYTES = MIN_BYTES
# Passwords of the data stores: long enough that guessing over the network is hopeless.
MIN_PASSWORD_BYTES = 16
# Values people paste from examples; refusing them beats running with a
# secret that is published in a README.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "your-secret-here", "replace-me"}
)
DEFAULT_ISSUER = "authstack"
DEFAULT_AUDIENCE = "authstack-api"
# Clock leeway allowed when checking exp/nbf/iat; docs/API.md caps it at 30 s.
CLOCK_LEEWAY_SECONDS = 10


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the setting only."""


@dataclass(frozen=True)
class SigningKey:
    """One HS256 secret and the key id that names it in token headers."""

    kid: str
    secret: bytes


@dataclass(frozen=True)
class TokenSettings:
    """What both services must agree on to sign and verify access tokens.

    Under HS256 ``keys`` holds the shared secrets; under EdDSA or ES256
    ``keys`` is empty and ``asymmetric_keys`` holds the key set: with private
    halves in auth_service, public ones only everywhere else.
    """

    keys: tuple[SigningKey, ...]
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int
    leeway: int = CLOCK_LEEWAY_SECONDS
    algorithm: str = key_sets.HS256
    asymmetric_keys: tuple[key_sets.AsymmetricKey, ...] = ()

    @property
    def signing_key(self) -> SigningKey:
        """The HS256 key new tokens are signed with: the first one listed."""
        return self.keys[0]

    @property
    def asymmetric(self) -> bool:
        """True under EdDSA or ES256: tokens are signed with a private key."""
        return self.algorithm != key_sets.HS256


def read_str(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    """Return ``env[name]`` stripped, else ``default``; raise if neither exists."""
    value = env.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise SettingsError(f"{name} is required")
    return default


def read_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """Return ``env[name]`` as an int within [low, high], else ``default``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def read_secret(env: Mapping[str, str], name: str, required: bool = True) -> str | None:
    """The secret ``name``, from the variable itself or from the file ``<name>_FILE`` names.

    The file form is how orchestrators hand out secrets (``/run/secrets/...``);
    one trailing newline is dropped. Setting both is refused, as the
    official database images do. Messages name the setting, never the value.
    """
    value = env.get(name, "").strip()
    file_name = env.get(f"{name}_FILE", "").strip()
    if value and file_name:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError):
            raise SettingsError(f"{name}_FILE names a file that can't be read") from None
        if not value.strip():
            raise SettingsError(f"{name}_FILE names an empty file")
    if value:
        return value
    if required:
        raise SettingsError(f"{name} is required (or {name}_FILE naming a file that holds it)")
    return None


def read_password(env: Mapping[str, str], name: str) -> str | None:
    """A data store's password (``name`` or ``name_FILE``), if set; refused if short."""
    password = read_secret(env, name, required=False)
    if password is not None and len(password.encode("utf-8")) < MIN_PASSWORD_BYTES:
        raise SettingsError(
            f"{name} must be at least {MIN_PASSWORD_BYTES} bytes long; generate one with: {HOW_TO_GENERATE}"
        )
    return password


def _checked_secret(name: str, secret: str) -> bytes:
    raw = secret.encode("utf-8")
    if len(raw) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_BYTES} bytes long; generate one with: {HOW_TO_GENERATE}"
        )
    if secret.lower() in PLACEHOLDER_SECRETS or len(set(secret)) < 8:
        raise SettingsError(
            f"{name} is a placeholder or has too little variety; generate one with: {HOW_TO_GENERATE}"
        )
    problem = weakness(secret)
    if problem:
        raise SettingsError(f"{name} {problem}; generate one with: {HOW_TO_GENERATE}")
    return raw


def read_signing_keys(env: Mapping[str, str]) -> tuple[SigningKey, ...]:
    """Parse ``JWT_KEYS`` (``kid:secret,...``) or else ``JWT_SECRET`` (kid ``k1``); ``*_FILE`` forms too."""
    listed = (read_secret(env, "JWT_KEYS", required=False) or "").strip()
    if not listed:
        return (SigningKey("k1", _checked_secret("JWT_SECRET", read_secret(env, "JWT_SECRET"))),)
    keys = []
    for entry in listed.split(","):
        kid, sep, secret = entry.strip().partition(":")
        if not sep or not kid or not kid.replace("-", "").replace("_", "").isalnum():
            raise SettingsError("JWT_KEYS entries must look like kid:secret (kid of a-z 0-9 - _)")
        keys.append(SigningKey(kid, _checked_secret(f"JWT_KEYS[{kid}]", secret)))
    if len({key.kid for key in keys}) != len(keys):
        raise SettingsError("JWT_KEYS has a key id twice")
    return tuple(keys)


def read_algorithm(env: Mapping[str, str]) -> str:
    """``JWT_ALG``: HS256 (the default), EdDSA or ES256, spelled as JOSE spells them."""
    value = env.get("JWT_ALG", "").strip() or key_sets.HS256
    if value not in key_sets.ALGORITHMS:
        raise SettingsError(f"JWT_ALG must be one of {', '.join(key_sets.ALGORITHMS)}")
    return value


def read_key_set(env: Mapping[str, str], algorithm: str, signer: bool) -> tuple[key_sets.AsymmetricKey, ...]:
    """The signer's private keys (``JWT_PRIVATE_KEYS_FILE``), or a verifier's public ones
    (``JWT_PUBLIC_KEYS_FILE``)."""
    setting = key_sets.PRIVATE_KEYS_SETTING if signer else key_sets.PUBLIC_KEYS_SETTING
    path_text = env.get(setting, "").strip()
    if not path_text:
        raise SettingsError(f"{setting} is required when JWT_ALG={algorithm}")
    try:
        return key_sets.load_key_set(setting, path_text, algorithm, private=signer)
    except key_sets.KeySetError as exc:
        raise SettingsError(str(exc)) from None


def read_token_settings(env: Mapping[str, str] | None = None, *, signer: bool = False) -> TokenSettings:
    """Read the token settings both services share.

    ``signer`` (auth_service) reads the private keys under an asymmetric
    ``JWT_ALG``; a verifier (api_service) reads the public ones. Under an
    asymmetric algorithm ``JWT_SECRET`` and ``JWT_KEYS`` are not read at all.
    """
    env = os.environ if env is None else env
    algorithm = read_algorithm(env)
    asymmetric = algorithm != key_sets.HS256
    return TokenSettings(
        keys=() if asymmetric else read_signing_keys(env),
        algorithm=algorithm,
        asymmetric_keys=read_key_set(env, algorithm, signer) if asymmetric else (),
        issuer=read_str(env, "JWT_ISSUER", DEFAULT_ISSUER),
        audience=read_str(env, "JWT_AUDIENCE", DEFAULT_AUDIENCE),
        access_ttl=read_int(env, "ACCESS_TOKEN_TTL", 900, 30, 86400),
        refresh_ttl=read_int(env, "REFRESH_TOKEN_TTL", 1209600, 60, 31536000),
    )
