"""The personal-access-token format and identity entries (no stack needed)."""

import pytest

from authcore import pats
from authcore.errors import InvalidTokenError


def test_a_new_token_is_well_formed_and_unique():
    tokens = {pats.new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith("pat_") and len(token) == 53
        assert pats.check_format(token) is None


@pytest.mark.parametrize(
    ("mutate", "result"),
    [
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "bad_checksum"),
        (lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:], "bad_checksum"),
        (lambda t: t[:-6], "malformed"),
        (lambda t: t + "A", "malformed"),
        (lambda t: "PAT_" + t[4:], "malformed"),
        (lambda t: t[:20] + "+" + t[21:], "malformed"),
        (lambda t: "", "malformed"),
    ],
)
def test_a_changed_token_is_refused_before_any_lookup(mutate, result):
    assert pats.check_format(mutate(pats.new_token())) == result


def test_only_the_canonical_spelling_of_the_secret_is_accepted():
    token = pats.new_token()
    body = token[4:47]
    # The 43rd character carries 2 unused bits: set one, recompute the checksum.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = body[:42] + alphabet[alphabet.index(body[42]) | 1]
    assert pats.check_format("pat_" + twin + pats.checksum(twin)) == "malformed"


def test_the_hash_is_a_sha256_and_the_key_names_it():
    token = pats.new_token()
    digest = pats.token_hash(token)
    assert len(digest) == 32 and pats.entry_key(digest) == "pat:" + digest.hex()


def test_an_identity_reads_back_as_claims_without_session_or_second_factor():
    value = pats.identity_value(
        token_id="t1",
        user_id="u1",
        username="alice",
        roles=["b", "a"],
        email_verified=True,
        created_at=1.5,
        expires_at=100,
    )
    claims = pats.claims_from_identity(value)
    assert claims.session_id is None and claims.amr == ()
    assert claims.roles == ("a", "b") and claims.user_id == "u1" and claims.token_id == "t1"
    assert claims.expires_at == 100 and claims.email_verified is True


@pytest.mark.parametrize("value", ["{}", "[]", '{"id": 1}', "not json"])
def test_an_unreadable_identity_raises(value):
    with pytest.raises((ValueError, KeyError, TypeError)):
        pats.claims_from_identity(value)


def test_an_entry_lives_until_expiry_plus_the_grace():
    assert pats.entry_ttl(1000, now=400) == 600 + pats.EXPIRED_GRACE_SECONDS
    assert pats.entry_ttl(0, now=10**10) == 1


class FakeEntries:
    """Stands in for the Redis list in this one unit test: the entries by key, and how often each was read."""

    def __init__(self, entries: dict):
        self.entries = entries
        self.reads = 0

    def read_entry(self, key: str):
        self.reads += 1
        return self.entries.get(key)


class NoNotes:
    def note(self, token_id: str, expired: bool = False) -> None:
        pass


def test_the_reader_reads_the_entry_on_every_request_even_when_it_remembers_the_rest():
    token = pats.new_token()
    key = pats.entry_key(pats.token_hash(token))
    value = pats.identity_value(
        token_id="t",
        user_id="u",
        username="a",
        roles=[],
        email_verified=False,
        created_at=1,
        expires_at=2**31,
    )
    entries = FakeEntries({key: value})
    reader = pats.AccessTokenReader(entries, NoNotes(), max_entries=2)
    for _ in range(3):
        assert reader.authenticate(token).user_id == "u"
    assert entries.reads == 3
    del entries.entries[key]  # revoked: refused on the very next request
    with pytest.raises(InvalidTokenError):
        reader.authenticate(token)
    for _ in range(3):  # the tables stay bounded
        with pytest.raises(InvalidTokenError):
            reader.authenticate(pats.new_token())
    assert len(reader._keys) <= 2
