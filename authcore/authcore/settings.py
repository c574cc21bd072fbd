"""Reading and validating settings from the environment.

Every name, type, default and bound is declared once in
``authcore.settings_registry``; ``read(env, name)`` reads a setting by those
rules (docs/OPERATIONS.md "Settings" is generated from the same table). A
problem is reported as a ``SettingsError`` naming the setting, never its
value, so a secret can't end up in a log.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from authcore import keys as key_sets
from authcore.secret_strength import HOW_TO_GENERATE, MIN_BYTES, weakness
from authcore.settings_registry import BOOL, CHOICE, INT, PASSWORD, REGISTRY, SECONDS, SECRET, Setting

MIN_SECRET_BYTES = MIN_BYTES
# Passwords of the data stores: long enough that guessing over the network is hopeless.
MIN_PASSWORD_BYTES = 16
# Values people paste from examples; refusing them beats running with a
# secret that is published in a README.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "your-secret-here", "replace-me"}
)
# Clock leeway allowed when checking exp/nbf/iat; docs/API.md caps it at 30 s.
CLOCK_LEEWAY_SECONDS = 10


TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the setting only."""


def read(env: Mapping[str, str], name: str) -> Any:
    """The setting ``name`` from ``env``, typed, bounded and defaulted as the registry declares it.

    An empty value counts as unset. A secret may come from ``<name>_FILE``
    instead; a password shorter than ``MIN_PASSWORD_BYTES`` is refused.
    The type is the registry's (``str``, ``int``, ``float``, ``bool`` or
    ``None``), known only at run time: callers annotate what they read.
    """
    setting = REGISTRY[name]
    if setting.kind == PASSWORD:
        return read_password(env, name, required=setting.required)
    if setting.kind == SECRET:
        return read_secret(env, name, required=setting.required)
    if setting.kind == INT:
        number, low, high = _number_bounds(setting)
        return read_int(env, name, int(number), int(low), int(high))
    if setting.kind == SECONDS:
        return read_seconds(env, name, *_number_bounds(setting))
    if setting.kind == BOOL:
        return read_bool(env, name, bool(setting.default))
    default = None if setting.required else ("" if setting.default is None else str(setting.default))
    value = read_str(env, name, default)
    if setting.kind != CHOICE:
        return value
    # A choice matches whatever its case; it is returned as declared (JOSE's "EdDSA").
    spelled = {choice.lower(): choice for choice in setting.choices}
    if value.lower() not in spelled:
        raise SettingsError(f"{name} must be one of {', '.join(setting.choices)}")
    return spelled[value.lower()]


def _number_bounds(setting: Setting) -> tuple[float, float, float]:
    """The default, low and high of a number setting (the registry declares all three)."""
    if not isinstance(setting.default, int | float) or setting.low is None or setting.high is None:
        raise TypeError(f"{setting.name}: a number setting needs a default and bounds")
    return setting.default, setting.low, setting.high


def read_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Return ``env[name]`` as a boolean (1/0, true/false, yes/no, on/off), else ``default``."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be one of 1/0, true/false, yes/no, on/off")


def read_seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """Return ``env[name]`` as seconds (a decimal number) within [low, high], else ``default``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds")
    return value


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


@overload
def read_secret(env: Mapping[str, str], name: str, required: Literal[True] = True) -> str: ...
@overload
def read_secret(env: Mapping[str, str], name: str, required: bool) -> str | None: ...
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


def read_password(env: Mapping[str, str], name: str, required: bool = False) -> str | None:
    """A data store's password (``name`` or ``name_FILE``), if set; refused if short."""
    password = read_secret(env, name, required=required)
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
    algorithm: str = read(env, "JWT_ALG")
    return algorithm


def read_key_set(env: Mapping[str, str], algorithm: str, signer: bool) -> tuple[key_sets.AsymmetricKey, ...]:
    """The signer's private keys (``JWT_PRIVATE_KEYS_FILE``), or a verifier's public ones
    (``JWT_PUBLIC_KEYS_FILE``)."""
    setting = key_sets.PRIVATE_KEYS_SETTING if signer else key_sets.PUBLIC_KEYS_SETTING
    path_text: str = read(env, setting)
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
        issuer=read(env, "JWT_ISSUER"),
        audience=read(env, "JWT_AUDIENCE"),
        access_ttl=read(env, "ACCESS_TOKEN_TTL"),
        refresh_ttl=read(env, "REFRESH_TOKEN_TTL"),
    )
