"""Passkeys (WebAuthn): the relying party's settings and the two ceremonies, through py_webauthn.

The library owns the protocol's checks (challenge, origin, RP ID hash, user
presence, signature counter, signature, attestation statement); this module
picks the options (discoverable credentials, user verification preferred,
"none" attestation), checks the shape of what a client sends before the
library reads it (so that bad input is a 422, never a 500), and finds the
challenge inside ``clientDataJSON`` so the client sends back only the
credential.
"""

import base64
import binascii
import ipaddress
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authenticator_data, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    ClientDataType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authcore.errors import ValidationFailed
from authcore.settings import SettingsError, read

log = logging.getLogger(__name__)

CHALLENGE_TTL_SECONDS = 300
TIMEOUT_MS = CHALLENGE_TTL_SECONDS * 1000
# What a client may send: a credential id is at most 1023 bytes (WebAuthn
# Level 3), so 1366 base64url characters; we take "none" attestation (a few
# hundred bytes), and any body is at most 16 KiB anyway (nginx, Flask).
MAX_ID_CHARS = 1366
MAX_FIELD_CHARS = 8 * 1024
MAX_NAME_CHARS = 64
B64URL = re.compile(r"[A-Za-z0-9_-]*")
REGISTRATION_FIELDS = ("clientDataJSON", "attestationObject")
AUTHENTICATION_FIELDS = ("clientDataJSON", "authenticatorData", "signature")
# We ask for no attestation: a passkey proves possession, not its make.
ACCEPTED_FORMATS = frozenset({AttestationFormat.NONE})


@dataclass(frozen=True)
class RelyingParty:
    """Who we are to authenticators: the RP ID (a domain), a display name, the page's origin."""

    rp_id: str
    name: str
    origin: str


def read_relying_party(env: Mapping[str, str], public_url: str) -> RelyingParty | None:
    """The relying party from ``WEBAUTHN_RP_ID``/``WEBAUTHN_RP_NAME`` and ``PUBLIC_URL``; None: passkeys off.

    An IP address can't be an RP ID (WebAuthn wants a domain): with such a
    ``PUBLIC_URL`` passkeys are off and one line says so. An explicit RP ID
    must be the host or a parent domain of it, or browsers refuse every
    ceremony: that stops start-up.
    """
    parts = urllib.parse.urlsplit(public_url)
    host = (parts.hostname or "").lower()
    explicit = read(env, "WEBAUTHN_RP_ID").strip().lower().rstrip(".")
    if explicit and host != explicit and not host.endswith("." + explicit):
        raise SettingsError(
            f"WEBAUTHN_RP_ID {explicit!r} is neither PUBLIC_URL's host {host!r} nor a parent domain of it"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        log.warning("passkeys are off: PUBLIC_URL's host %s is an IP address, not a domain", host)
        return None
    return RelyingParty(explicit or host, read(env, "WEBAUTHN_RP_NAME"), f"{parts.scheme}://{parts.netloc}")


def _b64url(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad(reason: str) -> ValidationFailed:
    return ValidationFailed(fields={"credential": reason})


def _b64url_field(value: object, max_chars: int) -> bytes:
    """Strict base64url (no padding, no other characters), non-empty and bounded."""
    if not isinstance(value, str) or not value or len(value) > max_chars or not B64URL.fullmatch(value):
        raise _bad("must be a WebAuthn credential in its JSON form (base64url fields)")
    try:
        return _unb64url(value)
    except (binascii.Error, ValueError):
        raise _bad("must be a WebAuthn credential in its JSON form (base64url fields)") from None


@dataclass(frozen=True)
class CredentialJson:
    """A credential whose shape was checked: the JSON to hand the library, and what we look up by."""

    json: dict[str, Any]
    credential_id: bytes
    challenge: bytes


def read_credential(value: object, fields: tuple[str, ...], ceremony: str) -> CredentialJson:
    """Check a client's ``credential`` (``toJSON()`` of a PublicKeyCredential); 422 ``fields.credential``.

    ``ceremony`` is the clientDataJSON type it must carry (``webauthn.create`` / ``webauthn.get``).
    """
    if not isinstance(value, dict):
        raise _bad("must be an object (PublicKeyCredential.toJSON())")
    credential_id = _b64url_field(value.get("id"), MAX_ID_CHARS)
    if value.get("rawId") != value.get("id") or value.get("type") != "public-key":
        raise _bad("must have rawId equal to id and type public-key")
    response = value.get("response")
    if not isinstance(response, dict):
        raise _bad("must have a response object")
    for name in fields:
        _b64url_field(response.get(name), MAX_FIELD_CHARS)
    user_handle = response.get("userHandle")
    if user_handle is not None:
        _b64url_field(user_handle, MAX_ID_CHARS)
    try:
        client_data = parse_client_data_json(_unb64url(response["clientDataJSON"]))
    except Exception:  # the library's parser raises whatever json/KeyError does
        raise _bad("has a malformed clientDataJSON") from None
    if client_data.type != ceremony or not client_data.challenge:
        raise _bad("has a clientDataJSON of another ceremony")
    # Only what the library reads: a stray field of the wrong type can't trip it.
    clean = {
        "id": value["id"],
        "rawId": value["rawId"],
        "type": "public-key",
        "response": {name: response[name] for name in fields},
    }
    if user_handle is not None:
        clean["response"]["userHandle"] = user_handle
    return CredentialJson(clean, credential_id, client_data.challenge)


def read_registration(value: object) -> CredentialJson:
    """A registration credential (``navigator.credentials.create``)."""
    return read_credential(value, REGISTRATION_FIELDS, ClientDataType.WEBAUTHN_CREATE)


def read_authentication(value: object) -> CredentialJson:
    """An authentication credential (``navigator.credentials.get``)."""
    return read_credential(value, AUTHENTICATION_FIELDS, ClientDataType.WEBAUTHN_GET)


def read_name(value: object) -> str:
    """A passkey's name: 1-64 printable characters (422 ``fields.name``)."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_NAME_CHARS
        or not value.isprintable()
    ):
        raise ValidationFailed(fields={"name": f"must be 1-{MAX_NAME_CHARS} printable characters"})
    return value.strip()


def _as_dict(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(options_to_json(options))
    return parsed


def registration_options(
    rp: RelyingParty, user_handle: bytes, username: str, exclude: list[bytes]
) -> tuple[dict[str, Any], bytes]:
    """``PublicKeyCredentialCreationOptions`` in their JSON form, and its challenge."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=username,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in exclude],
    )
    return _as_dict(options), options.challenge


def authentication_options(rp: RelyingParty, allow: list[bytes] | None) -> tuple[dict[str, Any], bytes]:
    """``PublicKeyCredentialRequestOptions`` in their JSON form, and its challenge.

    ``allow`` None: no ``allowCredentials``, the browser offers the passkeys it has for us.
    """
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in allow] if allow else None,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return _as_dict(options), options.challenge


class CeremonyFailed(Exception):
    """The library refused the credential (``reason`` is for the audit log, never the client)."""

    def __init__(self, reason: str, counter_went_back: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.counter_went_back = counter_went_back


@dataclass(frozen=True)
class NewCredential:
    """What a verified registration stores."""

    credential_id: bytes
    public_key: bytes
    sign_count: int


def verify_registration(rp: RelyingParty, credential: CredentialJson, challenge: bytes) -> NewCredential:
    """Verify a registration against the challenge we issued; ``CeremonyFailed`` if anything is off."""
    try:
        verified = verify_registration_response(
            credential=credential.json,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=False,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyFailed(str(exc)[:200]) from None
    if verified.fmt not in ACCEPTED_FORMATS:
        raise CeremonyFailed(f"attestation format {verified.fmt} is not accepted")
    return NewCredential(verified.credential_id, verified.credential_public_key, verified.sign_count)


def verify_authentication(
    rp: RelyingParty, credential: CredentialJson, challenge: bytes, public_key: bytes, sign_count: int
) -> tuple[int, bool]:
    """Verify a sign-in: (the new signature counter, whether the user was verified).

    ``CeremonyFailed`` if anything is off; ``counter_went_back`` when the
    authenticator's counter is not above the stored one (a cloned
    authenticator, WebAuthn §6.1.1), which the caller audits as such.
    """
    try:
        verified = verify_authentication_response(
            credential=credential.json,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=False,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyFailed(str(exc)[:200], _counter_went_back(credential, sign_count)) from None
    return verified.new_sign_count, verified.user_verified


def _counter_went_back(credential: CredentialJson, stored: int) -> bool:
    """Whether the refusal was the counter's (only to name it in the audit log)."""
    try:
        data = parse_authenticator_data(_unb64url(credential.json["response"]["authenticatorData"]))
    except Exception:  # malformed data: refused for that, not for a counter
        return False
    return (data.sign_count > 0 or stored > 0) and data.sign_count <= stored


def encode_id(credential_id: bytes) -> str:
    """A credential id as JSON carries it."""
    return _b64url(credential_id)
