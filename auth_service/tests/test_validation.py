"""Unit tests of the signup rules (pure functions, no I/O)."""

import pytest

from auth_app.validation import (
    email_problem,
    normalise_email,
    normalise_username,
    password_problem,
    require_strings,
    username_problem,
    validated_signup,
)
from authcore.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Alice", "alice"),
        ("\uff21\uff4c\uff49\uff43\uff45", "alice"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
    ],
)
def test_usernames_normalise_nfkc_then_casefold(raw, normalised):
    assert normalise_username(raw) == normalised


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        # U+0130 folds to "i" + a combining dot above: not the plain "i" a
        # UTF-8 collation's lower() makes of it, so not victim@'s address.
        (
            ["vİctim@example.com", "VİCTIM@EXAMPLE.COM", "vi\u0307ctim@example.com"],
            "vi\u0307ctim@example.com",
        ),
        (["Straße@example.com", "STRASSE@example.com", "strasse@example.com"], "strasse@example.com"),
        (
            [
                "\uff21\uff4c\uff49\uff43\uff45@example.com",
                "ALICE@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",
            ],
            "alice@example.com",
        ),
        (["café@example.com", "cafe\u0301@example.com", "CAFE\u0301@example.com"], "café@example.com"),
        (["x@example.com", "x\uff20example.com"], "x@example.com"),  # a fullwidth at sign
    ],
)
def test_every_spelling_of_an_address_has_one_key(spellings, key):
    assert {normalise_email(spelling) for spelling in spellings} == {key}
    assert normalise_email(key) == key  # stable: a key is its own key


def test_different_addresses_keep_different_keys():
    assert normalise_email("victim@example.com") != normalise_email("vİctim@example.com")
    assert normalise_email("cafe@example.com") != normalise_email("café@example.com")


@pytest.mark.parametrize("name", ["abc", "a-b", "a1-b2-c3", "x" * 39])
def test_valid_usernames(name):
    assert username_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "x" * 40, "-ab", "ab-", "a--b", "a_b", "a.b", "é" * 4, ""])
def test_invalid_usernames(name):
    assert username_problem(name)


def test_password_limits_are_counted_in_characters_then_bytes():
    assert password_problem("1234567") is not None
    assert password_problem("12345678") == "is one of the most commonly used passwords"
    assert password_problem("8 chars!") is None
    assert password_problem("é" * 35 + "xy") is None  # 72 bytes
    assert password_problem("é" * 37) is not None  # 74 bytes: refused, never truncated


def test_email_syntax_only_without_dns():
    assert email_problem("someone@example.com") is None
    assert email_problem("someone@nonexistent-domain-for-tests.invalid") is not None  # special-use TLD
    assert email_problem("not-an-email") is not None


def test_require_strings_reports_every_field_at_once():
    with pytest.raises(ValidationFailed) as error:
        require_strings({"a": 1, "b": "", "c": "x\x00"}, ("a", "b", "c", "d"))
    assert set(error.value.fields) == {"a", "b", "c", "d"}


def test_validated_signup_ignores_unknown_fields():
    fields = validated_signup(
        {"username": "Bob", "email": "b@example.com", "password": "p" * 8, "roles": ["admin"]}
    )
    assert fields == {"username": "bob", "email": "b@example.com", "password": "p" * 8}
