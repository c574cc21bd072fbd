"""Unit tests of settings validation: weak or missing secrets stop a service."""

import secrets

import pytest

from authcore.secret_strength import MIN_ENTROPY_BITS, estimated_entropy_bits, public_secrets, weakness
from authcore.settings import SettingsError, read_int, read_password, read_token_settings

GOOD = "Zq3-" + "x7Yk2mP9vL4nR8tW1sB6" + "cD5fG0hJ3k"


def test_jwt_secret_alone_gives_one_key():
    token_settings = read_token_settings({"JWT_SECRET": GOOD})
    assert [key.kid for key in token_settings.keys] == ["k1"]
    assert token_settings.access_ttl == 900 and token_settings.refresh_ttl == 1209600


def test_jwt_keys_first_signs_all_verify():
    token_settings = read_token_settings(
        {"JWT_KEYS": f"new:{GOOD}, old:{GOOD[::-1]}", "JWT_SECRET": "ignored"}
    )
    assert [key.kid for key in token_settings.keys] == ["new", "old"]
    assert token_settings.signing_key.kid == "new"


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"JWT_SECRET": ""},
        {"JWT_SECRET": "short-secret-of-31-bytes-xxxxxx"},
        {"JWT_SECRET": "a" * 64},
        {"JWT_SECRET": "changeme"},
        {"JWT_KEYS": "nokid"},
        {"JWT_KEYS": f"a:{GOOD},a:{GOOD}"},
        {"JWT_KEYS": f"bad kid:{GOOD}"},
        {"JWT_KEYS": "k1:short"},
    ],
)
def test_missing_weak_or_malformed_secrets_are_refused(env):
    with pytest.raises(SettingsError) as error:
        read_token_settings(env)
    assert GOOD not in str(error.value)


def test_numbers_are_range_checked():
    assert read_int({"X": "7"}, "X", 1, 4, 16) == 7
    for raw in ("3", "17", "seven", "1.5"):
        with pytest.raises(SettingsError):
            read_int({"X": raw}, "X", 1, 4, 16)


# Entries of Wallarm's public jwt.secrets.list that the length and variety
# rules alone let through (16 of them, most with enough estimated entropy
# too): each must be refused as published.
PUBLISHED = [
    "my_very_long_and_safe_secret_key",
    "bvgfuiabdfguq34tr8ui34ug78wef3trg4",
    "8a2ca0fa-56d8-4f6c-b0ed-5baf7aa50793",
    "febfd298-1f1b-4e45-9f46-c3596b0da2b5",
    "2699aa04-05f3-4052-b02d-5497bb9e965f",
    "3eefee55-c7f8-43a8-9a77-ed9d217569b4",
    "556dcc77-1b7e-45f6-b95d-fcf22fb897a4",
    "e71a1342-a696-4063-82be-8f6d748438c9",
    "30e4b41c-d006-4654-a7a9-18c1628dc2f7",
    "INp8IvdIy89eMCoGAgFGoA61DdBglwwSqnXJZkgz8PSnW",
    "1ASDasas12412r13asaah992394ksiv129dg912",
    "4eaaa03a-17f8-4b8a-a36c-4fcea35c9b09",
    "my-ultra-secret-and-ultra-long-code",
    "jwt-default-value-to-be-changed-in-production",
    "S0M3 M4G1C UN1C0RNS G3N3R4T3D TH1S S3CR3T",
    "52dd9132-e667-4bdc-bb93-09f3f21be45f",
]


@pytest.mark.parametrize("secret", PUBLISHED)
def test_published_secrets_are_refused(secret):
    assert secret in public_secrets()
    with pytest.raises(SettingsError) as error:
        read_token_settings({"JWT_SECRET": secret})
    message = str(error.value)
    assert message.startswith("JWT_SECRET is a published secret")
    assert secret not in message
    assert "secrets.token_urlsafe(48)" in message


def test_every_shipped_published_secret_is_refused():
    refused = 0
    for secret in sorted(public_secrets()):
        with pytest.raises(SettingsError):
            read_token_settings({"JWT_SECRET": secret})
        refused += 1
    assert refused > 1000


@pytest.mark.parametrize(
    "secret",
    [
        "abababababababababababababababababab",  # long, two characters
        "correcthorsebatterystaplecorrecthorse",  # words
    ],
)
def test_secrets_with_little_entropy_are_refused(secret):
    assert estimated_entropy_bits(secret) < MIN_ENTROPY_BITS
    with pytest.raises(SettingsError, match=r"JWT_KEYS\[k1\] (has less than|is a placeholder)"):
        read_token_settings({"JWT_KEYS": f"k1:{secret}"})


def test_generated_secrets_pass():
    for _ in range(200):
        secret = secrets.token_urlsafe(48)
        assert weakness(secret) is None
        assert read_token_settings({"JWT_SECRET": secret}).keys[0].secret == secret.encode()


def test_a_secret_can_come_from_a_file(tmp_path):
    secret = secrets.token_urlsafe(48)
    (tmp_path / "jwt").write_text(secret + "\n")
    (tmp_path / "keys").write_text(f"new:{secret},old:{GOOD}\n")
    assert read_token_settings({"JWT_SECRET_FILE": str(tmp_path / "jwt")}).keys[0].secret == secret.encode()
    keys = read_token_settings({"JWT_KEYS_FILE": str(tmp_path / "keys")}).keys
    assert [key.kid for key in keys] == ["new", "old"]


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        (
            {"JWT_SECRET": GOOD, "JWT_SECRET_FILE": "/etc/hostname"},
            "set JWT_SECRET or JWT_SECRET_FILE, not both",
        ),
        ({"JWT_SECRET_FILE": "/nonexistent/jwt"}, "JWT_SECRET_FILE names a file that can't be read"),
        ({"JWT_SECRET_FILE": "/dev/null"}, "JWT_SECRET_FILE names an empty file"),
    ],
)
def test_bad_secret_files_are_refused_by_name(env, reason):
    with pytest.raises(SettingsError) as error:
        read_token_settings(env)
    assert str(error.value) == reason


def test_store_passwords_come_from_files_and_must_be_long(tmp_path):
    (tmp_path / "pw").write_text("x" * 20 + "\n")
    assert read_password({"REDIS_API_PASSWORD_FILE": str(tmp_path / "pw")}, "REDIS_API_PASSWORD") == "x" * 20
    assert read_password({}, "REDIS_API_PASSWORD") is None
    with pytest.raises(SettingsError, match=r"^REDIS_API_PASSWORD must be at least 16 bytes long"):
        read_password({"REDIS_API_PASSWORD": "short"}, "REDIS_API_PASSWORD")


def test_the_generated_settings_docs_are_up_to_date():
    """docs/OPERATIONS.md's table and .env.example are what `make settings-docs` writes."""
    from pathlib import Path

    from authcore import settings_registry

    root = Path(__file__).resolve().parents[2]
    operations = (root / "docs" / "OPERATIONS.md").read_text()
    assert operations == settings_registry.with_table(operations), "run make settings-docs"
    assert (root / ".env.example").read_text() == settings_registry.env_example(), "run make settings-docs"


def test_every_registered_number_has_its_default_within_its_bounds():
    from authcore.settings import read
    from authcore.settings_registry import REGISTRY

    for name in REGISTRY:
        read({}, name) if not REGISTRY[name].required else None
