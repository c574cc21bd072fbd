"""Unit tests of settings validation: weak or missing secrets stop a service."""

import pytest

from authcore.settings import SettingsError, read_int, read_token_settings

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
