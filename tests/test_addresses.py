"""One spelling of an address, through nginx: lookups, throttles and mail limits agree on it."""

import secrets

import pytest

from tests.helpers import assert_error, random_user


def _address(shape: str) -> tuple[str, str]:
    tag = secrets.token_hex(4)
    return shape.format(tag), tag


@pytest.mark.parametrize(
    ("typed", "variant"),
    [
        ("straße-{}@example.com", "STRASSE-{}@example.com"),
        ("\uff46\uff55\uff4c\uff4c-{}@example.com", "FULL-{}\uff20example.com"),
        ("café-{}@example.com", "cafe\u0301-{}@example.com"),
    ],
)
def test_another_spelling_is_the_same_account(api, typed, variant):
    tag = secrets.token_hex(4)
    fields = {**random_user(), "email": typed.format(tag)}
    created = api.create_user(**fields)
    assert created["email"] == typed.format(tag)  # shown as typed
    # Signing up again under another spelling of the address: taken.
    again = api.post("/auth/signup", {**random_user(), "email": variant.format(tag).replace("\uff20", "@")})
    assert_error(again, 409, "email_taken")
    # Logging in under another spelling: the same account.
    response = api.post("/auth/login", {"username": variant.format(tag), "password": fields["password"]})
    assert response.status_code == 200, response.text


def test_dotted_capital_i_is_another_address_with_its_own_counter(api):
    # U+0130: a UTF-8 collation's lower() made victim@'s account answer to it,
    # under a throttle counter of its own. Now it is simply another address.
    tag = secrets.token_hex(4)
    fields = {**random_user(), "email": f"victim-{tag}@example.com"}
    api.create_user(**fields)
    variant = f"vİctim-{tag}@example.com"
    response = api.post("/auth/login", {"username": variant, "password": fields["password"]})
    assert_error(response, 401, "invalid_credentials")


# Spellings Python's casefold() alone keeps apart (three counters before):
# composed, combining and fullwidth forms of one address.
SPELLINGS = ("café-{}@example.com", "CAFE\u0301-{}@example.com", "\uff43\uff41\uff46é-{}@example.com")


def test_failed_logins_under_every_spelling_share_one_counter(api):
    tag = secrets.token_hex(4)
    fields = {**random_user(), "email": SPELLINGS[0].format(tag)}
    api.create_user(**fields)
    # Four failures per spelling: under the limit (5) for three counters, over
    # it for one. Whatever the pace, the closed account answers 429 at last
    # (each failure past the limit closes it twice as long as the one before).
    answers = []
    for attempt in range(12):
        login = SPELLINGS[attempt % 3].format(tag)
        answers.append(
            api.post("/auth/login", {"username": login, "password": "wrong-password-1"}).status_code
        )
    assert set(answers) <= {401, 429}, answers
    assert 429 in answers, answers


def test_reset_requests_under_every_spelling_share_one_limit(api):
    tag = secrets.token_hex(4)
    answers = [
        api.post("/auth/password/forgot", {"email": SPELLINGS[i % 3].format(tag)}).status_code
        for i in range(8)
    ]
    assert answers[:5] == [202] * 5, answers
    assert set(answers[5:]) == {429}, answers
