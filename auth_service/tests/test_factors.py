"""Second factors without a stack: RFC 6238's test vectors, the sealed secret, recovery codes, MFA_KEY."""

import base64
import secrets
import uuid
from datetime import UTC, datetime

import pyotp
import pytest

from auth_app.factors import recovery_codes, totp
from auth_app.factors.secret_box import MfaKeyUnusable, SecretBox, parse_keys
from auth_app.factors.service import code_kind
from authcore.errors import ValidationFailed
from authcore.settings import SettingsError

# RFC 6238 appendix B, SHA-1: the ASCII secret "12345678901234567890", 8 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_rfc_6238_vectors(at, code):
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(at) == code
    # Six digits are the same value modulo 10**6: the last six of the vector.
    now = datetime.fromtimestamp(at, UTC)
    assert totp.matching_step(RFC_SECRET, code[-6:], now) == at // 30


def test_a_code_of_a_neighbouring_step_matches_with_its_own_step():
    now = datetime.fromtimestamp(1_800_000_015, UTC)
    secret = totp.new_secret()
    generator = pyotp.TOTP(secret)
    step = 1_800_000_015 // 30
    assert totp.matching_step(secret, generator.generate_otp(step - 1), now) == step - 1
    assert totp.matching_step(secret, generator.generate_otp(step + 1), now) == step + 1
    assert totp.matching_step(secret, generator.generate_otp(step + 2), now) is None
    assert totp.matching_step(secret, generator.generate_otp(step - 2), now) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", "\uff11" * 6, " 123456", "1" * 5000])
def test_malformed_totp_codes_never_match(code):
    assert totp.matching_step(totp.new_secret(), code) is None


def test_the_uri_and_the_qr_code():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "alice")
    assert uri.startswith("otpauth://totp/authstack:alice?") and f"secret={secret}" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_the_secret_box_round_trips_and_binds_the_user():
    box = SecretBox(parse_keys(secrets.token_urlsafe(32)))
    alice, bob = uuid.uuid4(), uuid.uuid4()
    sealed = box.seal(alice, b"JBSWY3DPEHPK3PXP")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(alice, sealed) == (b"JBSWY3DPEHPK3PXP", True)
    with pytest.raises(MfaKeyUnusable):
        box.open(bob, sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(MfaKeyUnusable):
        box.open(alice, tampered)


def test_a_rotated_key_still_opens_and_says_so():
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    user = uuid.uuid4()
    sealed = SecretBox(parse_keys(old)).seal(user, b"secret")
    rotated = SecretBox(parse_keys(f"{new},{old}"))
    assert rotated.open(user, sealed) == (b"secret", False)
    with pytest.raises(MfaKeyUnusable):
        SecretBox(parse_keys(new)).open(user, sealed)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("c2hvcnQ=", "32 bytes"),
        ("not base64 at all!", "base64"),
        (base64.b64encode(b"k" * 32).decode() + "," + base64.b64encode(b"k" * 32).decode(), "twice"),
    ],
)
def test_bad_mfa_keys_are_refused_naming_the_setting(raw, message):
    with pytest.raises(SettingsError, match=message) as caught:
        parse_keys(raw)
    assert "MFA_KEY" in str(caught.value) and raw not in str(caught.value)


def test_openssl_style_keys_are_read():
    assert len(parse_keys(base64.b64encode(secrets.token_bytes(32)).decode())[0]) == 32


def test_recovery_codes_are_ten_distinct_and_normalise():
    codes = recovery_codes.generate()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert recovery_codes.code_hash(code) == recovery_codes.code_hash(code.upper().replace("-", " "))
    assert recovery_codes.normalise("0000-0000-0000-0000") is None  # 0 is not in the alphabet
    assert recovery_codes.normalise("a" * 1000) is None


def test_code_kind():
    assert code_kind("123456") == "totp"
    assert code_kind(recovery_codes.generate()[0]) == "recovery_code"
    for bad in ("12345", "abc", "x" * 100):
        with pytest.raises(ValidationFailed):
            code_kind(bad)
