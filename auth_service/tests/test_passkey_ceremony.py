"""The WebAuthn ceremony module (auth_app/factors/passkeys.py) against a software authenticator, no stack.

py_webauthn decides; these tests pin what we ask of it and how its refusals
reach us: a counter going back is named as such, a wrong origin or RP ID is
refused, and malformed credential objects are a 422 before the library
reads them.
"""

import pytest

from auth_app.factors import passkeys
from auth_app.factors.passkeys import CeremonyFailed, RelyingParty
from authcore.errors import ValidationFailed
from tests.soft_authenticator import SoftAuthenticator, b64url

RP = RelyingParty("login.example.com", "authstack", "https://login.example.com")


def registered(uv: bool = True) -> tuple[SoftAuthenticator, passkeys.NewCredential]:
    """A software authenticator and the credential a registration stored for it."""
    key = SoftAuthenticator(RP.origin, user_verified=uv)
    options, challenge = passkeys.registration_options(RP, b"h" * 64, "alice", [])
    checked = passkeys.read_registration(key.create(options))
    assert checked.challenge == challenge
    return key, passkeys.verify_registration(RP, checked, challenge)


def sign_in(key: SoftAuthenticator, stored: passkeys.NewCredential, count: int, **bend) -> tuple[int, bool]:
    options, challenge = passkeys.authentication_options(RP, None)
    checked = passkeys.read_authentication(key.get(options, bend.pop("rp_id", RP.rp_id), **bend))
    return passkeys.verify_authentication(RP, checked, challenge, stored.public_key, count)


def test_a_registered_credential_signs_in_and_reports_user_verification():
    key, stored = registered()
    assert stored.credential_id == key.credential_id
    assert sign_in(key, stored, 0) == (1, True)
    key.user_verified = False
    assert sign_in(key, stored, 1) == (2, False)


@pytest.mark.parametrize("stored_count, sent", [(5, 3), (5, 5)])
def test_a_counter_not_above_the_stored_one_is_refused_as_such(stored_count, sent):
    key, stored = registered()
    with pytest.raises(CeremonyFailed) as refused:
        sign_in(key, stored, stored_count, counter=sent)
    assert refused.value.counter_went_back


@pytest.mark.parametrize("bend", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}])
def test_a_wrong_origin_or_rp_id_is_refused_and_not_blamed_on_the_counter(bend):
    key, stored = registered()
    with pytest.raises(CeremonyFailed) as refused:
        sign_in(key, stored, 0, **bend)
    assert not refused.value.counter_went_back


def test_an_answer_to_another_challenge_is_refused():
    key, stored = registered()
    options, _ = passkeys.authentication_options(RP, None)
    _, other_challenge = passkeys.authentication_options(RP, None)
    checked = passkeys.read_authentication(key.get(options, RP.rp_id))
    with pytest.raises(CeremonyFailed):
        passkeys.verify_authentication(RP, checked, other_challenge, stored.public_key, 0)


def test_another_credentials_public_key_does_not_verify():
    key, _ = registered()
    _, other = registered()
    options, challenge = passkeys.authentication_options(RP, None)
    checked = passkeys.read_authentication(key.get(options, RP.rp_id))
    with pytest.raises(CeremonyFailed):
        passkeys.verify_authentication(RP, checked, challenge, other.public_key, 0)


def test_an_attestation_format_we_do_not_take_is_refused():
    key = SoftAuthenticator(RP.origin)
    options, challenge = passkeys.registration_options(RP, b"h" * 64, "alice", [])
    with pytest.raises(CeremonyFailed):
        passkeys.verify_registration(
            RP, passkeys.read_registration(key.create(options, fmt="packed")), challenge
        )


def _signed() -> dict:
    key, _ = registered()
    options, _ = passkeys.authentication_options(RP, None)
    return key.get(options, RP.rp_id)


MALFORMED = {
    "a string": lambda c: "credential",
    "a list": lambda c: [c],
    "no id": lambda c: {k: v for k, v in c.items() if k != "id"},
    "id a number": lambda c: {**c, "id": 1, "rawId": 1},
    "rawId differs": lambda c: {**c, "rawId": b64url(b"x")},
    "type wrong": lambda c: {**c, "type": "password"},
    "response missing": lambda c: {k: v for k, v in c.items() if k != "response"},
    "signature missing": lambda c: {
        **c,
        "response": {k: v for k, v in c["response"].items() if k != "signature"},
    },
    "signature a list": lambda c: {**c, "response": {**c["response"], "signature": [1, 2]}},
    "padding": lambda c: {**c, "response": {**c["response"], "signature": c["response"]["signature"] + "=="}},
    "standard base64": lambda c: {**c, "response": {**c["response"], "authenticatorData": "ab+/"}},
    "empty field": lambda c: {**c, "response": {**c["response"], "authenticatorData": ""}},
    "huge field": lambda c: {**c, "response": {**c["response"], "signature": "A" * 9000}},
    "huge id": lambda c: {**c, "id": "A" * 1367, "rawId": "A" * 1367},
    "userHandle a number": lambda c: {**c, "response": {**c["response"], "userHandle": 5}},
    "clientDataJSON not JSON": lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"{")}},
    "clientDataJSON a list": lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"[]")}},
    "registration clientData": lambda c: {
        **c,
        "response": {
            **c["response"],
            "clientDataJSON": b64url(b'{"type":"webauthn.create","challenge":"AAAA","origin":"x"}'),
        },
    },
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_credentials_are_422_on_the_credential_field(case):
    with pytest.raises(ValidationFailed) as refused:
        passkeys.read_authentication(MALFORMED[case](_signed()))
    assert "credential" in refused.value.fields
