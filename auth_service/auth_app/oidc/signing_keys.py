"""The ID-token signing keys (``OIDC_SIGNING_KEYS_FILE``): load, publish, generate.

A private JWK Set (RFC 7517) of ID-token keys only, separate from the
access-token keys: an RS256 key, as OpenID Connect requires of every
provider, and EdDSA and ES256 keys for clients registered with
``id_token_signed_response_alg``. For each algorithm the first key of the
set signs and the others are published only (the rotation of
docs/OPERATIONS.md). joserfc (authlib's JOSE library) reads, writes and
makes the keys; nothing here touches key material by hand.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, OKPKey, RSAKey
from joserfc.util import urlsafe_b64decode

from authcore.keys import KID_SHAPE, MAX_KEY_FILE_BYTES, new_kid
from authcore.settings import SettingsError

SETTING = "OIDC_SIGNING_KEYS_FILE"
RS256, EDDSA, ES256 = "RS256", "EdDSA", "ES256"
# OpenID Connect Discovery: RS256 must be supported; the first is the default.
ALGORITHMS = (RS256, EDDSA, ES256)
KEY_TYPES = {RS256: ("RSA", None), EDDSA: ("OKP", "Ed25519"), ES256: ("EC", "P-256")}
RSA_BITS = 2048

Key = RSAKey | ECKey | OKPKey


@dataclass(frozen=True)
class SigningKeys:
    """The loaded set: the signing key of each algorithm and every key's public JWK."""

    keys: tuple[Key, ...]

    def signing_key(self, algorithm: str) -> Key:
        """The key that signs ID tokens of ``algorithm`` (the first of its kind)."""
        for key in self.keys:
            if key.alg == algorithm:
                return key
        raise KeyError(algorithm)

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms this set can sign with, RS256 first."""
        present = {key.alg for key in self.keys}
        return tuple(alg for alg in ALGORITHMS if alg in present)

    def public_jwks(self) -> list[dict[str, Any]]:
        """The public JWKs of every key (published in /.well-known/jwks.json)."""
        return [dict(key.as_dict(private=False)) for key in self.keys]


def _check_key(index: int, key: Any) -> Key:
    where = f"{SETTING}: key {index + 1}"
    if not isinstance(key, RSAKey | ECKey | OKPKey):
        raise SettingsError(f"{where} is not an RSA, EC or OKP key")
    if not isinstance(key.kid, str) or not KID_SHAPE.fullmatch(key.kid):
        raise SettingsError(f"{where} needs a kid of 1-64 characters a-z A-Z 0-9 . _ -")
    where = f"{SETTING}: key {key.kid!r}"
    if key.alg not in KEY_TYPES:
        raise SettingsError(f"{where} needs an alg of {', '.join(ALGORITHMS)}")
    kty, crv = KEY_TYPES[key.alg]
    if key.key_type != kty or (crv is not None and key.as_dict(private=False).get("crv") != crv):
        raise SettingsError(f"{where} is not the {kty} key alg {key.alg} needs")
    if key.get("use", "sig") != "sig":
        raise SettingsError(f"{where} is marked for another use than signing")
    if not key.is_private:
        raise SettingsError(f"{where} has no private part (d)")
    if isinstance(key, RSAKey) and len(urlsafe_b64decode(str(key.get("n")).encode())) * 8 < RSA_BITS:
        raise SettingsError(f"{where} is an RSA key shorter than {RSA_BITS} bits")
    return key


def load_signing_keys(path_text: str) -> SigningKeys:
    """The checked keys of the file ``path_text``; ``SettingsError`` naming the setting, never a key."""
    try:
        with Path(path_text).open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError:
        raise SettingsError(f"{SETTING} names a file that can't be read") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise SettingsError(f"{SETTING} names a file larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        document = json.loads(raw)
        key_set = KeySet.import_key_set(document)
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError, JoseError):
        raise SettingsError(f'{SETTING} must name a private JWK Set: {{"keys": [...]}}') from None
    keys = tuple(_check_key(index, key) for index, key in enumerate(key_set.keys))
    if len({key.kid for key in keys}) != len(keys):
        raise SettingsError(f"{SETTING} has two keys with one kid")
    if not any(key.alg == RS256 for key in keys):
        raise SettingsError(f"{SETTING} needs an RS256 key (OpenID Connect requires it)")
    return SigningKeys(keys)


def generate_key(algorithm: str) -> Key:
    """A new private key of ``algorithm`` with a fresh kid."""
    # "id-": an ID-token key is told from an access-token key at a glance.
    parameters: KeyParameters = {"kid": "id-" + new_kid(algorithm), "alg": algorithm, "use": "sig"}
    if algorithm == RS256:
        return RSAKey.generate_key(RSA_BITS, parameters=parameters, private=True)
    if algorithm == EDDSA:
        return OKPKey.generate_key("Ed25519", parameters=parameters, private=True)
    if algorithm == ES256:
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    raise ValueError(f"no ID-token key for {algorithm}")


def generate_key_set() -> dict[str, Any]:
    """A new private JWK Set with one key of each algorithm (RS256 first)."""
    return dict(KeySet([generate_key(alg) for alg in ALGORITHMS]).as_dict(private=True))
