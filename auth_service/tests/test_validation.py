"""Unit tests of the signup rules (pure functions, no I/O)."""

import pytest

from auth_app.validation import (
    email_problem,
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
