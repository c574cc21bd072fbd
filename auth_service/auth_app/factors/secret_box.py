"""Second-factor secrets at rest: AES-256-GCM with keys from ``MFA_KEY`` (or ``MFA_KEY_FILE``).

``MFA_KEY`` lists one or more keys, comma-separated, each 32 random bytes in
base64 (``openssl rand -base64 32``; base64url works too). The first
encrypts; every one decrypts, so a key is rotated by putting a new one first
and dropping the old one once every secret was re-encrypted (a secret
decrypted with an older key is stored again under the first one at its next
use). A stored blob is ``version (1 byte) | key id (4 bytes) | nonce (12) |
ciphertext+tag``; the key id is the start of the key's SHA-256, which says
nothing about the key. The user's id is the associated data: a blob copied
to another user's row doesn't decrypt.
"""

import base64
import binascii
import hashlib
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authcore.errors import ApiError
from authcore.settings import SettingsError, read

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_BYTES = 4
VERSION = b"\x01"
HOW_TO_GENERATE = "openssl rand -base64 32"


class MfaKeyUnusable(ApiError):
    """A stored secret doesn't decrypt with any configured ``MFA_KEY``: a deployment mistake."""

    status, code = 503, "unavailable"
    message = "Second factors are unavailable right now; retry later."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "2"})


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


def parse_keys(raw: str, name: str = "MFA_KEY") -> tuple[bytes, ...]:
    """The keys of a ``MFA_KEY`` value; ``SettingsError`` naming ``name`` if any is not 32 bytes."""
    keys = []
    for entry in raw.split(","):
        text = entry.strip()
        try:
            key = base64.b64decode(
                text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
            )
        except (binascii.Error, ValueError):
            raise SettingsError(
                f"{name} must be base64 keys of 32 bytes; generate one with: {HOW_TO_GENERATE}"
            ) from None
        if len(key) != KEY_BYTES:
            raise SettingsError(
                f"{name} keys must be 32 bytes (base64); generate one with: {HOW_TO_GENERATE}"
            )
        keys.append(key)
    if len({_key_id(key) for key in keys}) != len(keys):
        raise SettingsError(f"{name} lists a key twice")
    return tuple(keys)


def read_mfa_keys(env: Mapping[str, str]) -> tuple[bytes, ...]:
    """``MFA_KEY`` (or ``MFA_KEY_FILE``): required, checked at start."""
    return parse_keys(read(env, "MFA_KEY"))


@dataclass(frozen=True)
class SecretBox:
    """Encrypts and decrypts second-factor secrets of one user at a time."""

    keys: tuple[bytes, ...] = field(repr=False)

    def seal(self, user_id: uuid.UUID, secret: bytes) -> bytes:
        """``secret`` encrypted under the first key, bound to ``user_id``."""
        key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + _key_id(key) + nonce + AESGCM(key).encrypt(nonce, secret, user_id.bytes)

    def open(self, user_id: uuid.UUID, blob: bytes) -> tuple[bytes, bool]:
        """(the secret, whether it was sealed with the first key); ``MfaKeyUnusable`` if no key opens it."""
        header = len(VERSION) + KEY_ID_BYTES
        if blob[:1] == VERSION and len(blob) > header + NONCE_BYTES:
            key_id, nonce, sealed = (
                blob[1:header],
                blob[header : header + NONCE_BYTES],
                blob[header + NONCE_BYTES :],
            )
            for index, key in enumerate(self.keys):
                if _key_id(key) != key_id:
                    continue
                try:
                    return AESGCM(key).decrypt(nonce, sealed, user_id.bytes), index == 0
                except InvalidTag:
                    break
        # Never the key or the blob: which user, and that MFA_KEY is the likely cause.
        log.error("a stored TOTP secret does not decrypt with any MFA_KEY key (user %s)", user_id)
        raise MfaKeyUnusable()
