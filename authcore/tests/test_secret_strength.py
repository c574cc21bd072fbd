"""Guessable shared secrets are refused under HS256 (authcore/secret_strength.py)."""

import base64
import os
import secrets

import pytest

from authcore.secret_strength import HOW_TO_GENERATE, guessable, weakness
from authcore.settings import SettingsError, read_token_settings

# The four a review found accepted, and more of their kind.
GUESSABLE = {
    "0123456789abcdefghijklmnopqrstuvwxyz": "alphabet or digit runs",
    "qwertyuiopasdfghjklzxcvbnm1234567890": "common passwords or keyboard rows",
    "MyCompanyName-JWT-Secret-2024-Production!!": "dates or years",
    "ThisIsMySuperSecretKeyForJWTTokens123": "dictionary words or names",
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789": "alphabet or digit runs",
    "zyxwvutsrqponmlkjihgfedcba9876543210": "alphabet or digit runs",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/": "keyboard patterns",
    "AcmeCorp-Authentication-Secret-2025-Staging": "dates or years",
    "SuperSecretPasswordForTheProductionServer2023!": "common passwords or keyboard rows",
    "Acme-Widgets-International-Auth-Key-2019": "dates or years",
}


@pytest.mark.parametrize(("secret", "kind"), GUESSABLE.items())
def test_guessable_secrets_are_refused_naming_their_kind_the_setting_and_the_command(secret, kind):
    assert kind in guessable(secret)
    with pytest.raises(SettingsError) as caught:
        read_token_settings({"JWT_SECRET": secret})
    message = str(caught.value)
    assert message.startswith("JWT_SECRET is guessable") and kind in message
    assert HOW_TO_GENERATE in message and "\n" not in message
    assert secret not in message and secret[:8] not in message


def test_the_shared_secret_rule_applies_to_each_jwt_keys_entry_too():
    with pytest.raises(SettingsError, match=r"^JWT_KEYS\[old\] is guessable"):
        read_token_settings(
            {"JWT_KEYS": f"new:{secrets.token_urlsafe(48)},old:ThisIsMySuperSecretKeyForJWTTokens123"}
        )


def test_what_a_generator_makes_is_accepted():
    """token_urlsafe(48) as the message says, and other spellings of 256 random bits."""
    for _ in range(10):
        raw = os.urandom(32)
        for secret in (
            secrets.token_urlsafe(48),
            raw.hex(),
            base64.b64encode(raw).decode(),  # openssl rand -base64 32
            base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        ):
            assert weakness(secret) is None, secret
            assert read_token_settings({"JWT_SECRET": secret}).keys[0].secret == secret.encode()


def test_under_eddsa_no_shared_secret_is_read_or_judged():
    tokens_env = {"JWT_ALG": "EdDSA", "JWT_SECRET": "qwertyuiopasdfghjklzxcvbnm1234567890"}
    with pytest.raises(SettingsError, match="JWT_PUBLIC_KEYS_FILE is required"):
        read_token_settings(tokens_env)
