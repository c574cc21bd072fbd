"""Hypothesis properties of what reads untrusted input.

Whatever a client sends, the token parser (``bearer_token`` then
``AccessTokenVerifier.verify``) and the JSON body reader end in their own
errors, which the services turn into 401/400/415, and never in another
exception (a 500). Random text and bytes mostly die at the first check, so
the strategies also build inputs that get further: well-formed compact JWS
with random JSON in header and payload, validly signed ones with one claim
scrambled, one-character edits of a valid token, JSON documents of every kind.

``make test`` runs a fixed, bounded number of examples (derandomized: the same
ones each run); ``make fuzz`` sets ``FUZZ_PROFILE=long`` for many more, drawn
afresh each run (a failure prints how to reproduce it).
"""

import base64
import hashlib
import hmac
import json
import math
import os
import string
import time

import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from authcore.bearer import bearer_token
from authcore.errors import ApiError, BadRequest, InvalidTokenError, MissingToken, UnsupportedMediaType
from authcore.json_body import read_json_object
from authcore.settings import SigningKey, TokenSettings
from authcore.tokens import (
    ACCESS_TOKEN_TYPE,
    MAX_EPOCH_SECONDS,
    REQUIRED_CLAIMS,
    AccessClaims,
    AccessTokenVerifier,
    InvalidToken,
    issue_access_token,
)

PROFILES = {
    "default": settings(max_examples=150, derandomize=True, database=None, deadline=None),
    "long": settings(max_examples=5000, derandomize=False, database=None, deadline=None),
}
PROFILE = PROFILES[os.environ.get("FUZZ_PROFILE", "default")]
# Each example builds a Flask request context: slower than a pure function.
REQUEST_PROFILE = settings(PROFILE, suppress_health_check=[HealthCheck.too_slow])

SECRET = b"k" * 8 + b"0123456789abcdefghijklmnopqrstuv"
SETTINGS = TokenSettings(
    keys=(SigningKey("k1", SECRET),),
    issuer="iss-test",
    audience="aud-test",
    access_ttl=900,
    refresh_ttl=3600,
)
VERIFIER = AccessTokenVerifier(SETTINGS)
# One token for the whole run, so every example edits a string of the same length.
VALID_TOKEN, VALID_CLAIMS = issue_access_token(
    SETTINGS, user_id="u1", username="alice", session_id="s1", roles=["a"]
)
APP = Flask(__name__)
APP.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # as authcore.flask_app.base_app sets it

B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"  # in value order


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign(header_segment: str, payload_segment: str, secret: bytes = SECRET) -> str:
    signing_input = f"{header_segment}.{payload_segment}"
    digest = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64(digest)}"


def good_header() -> dict:
    return {"alg": "HS256", "kid": "k1", "typ": ACCESS_TOKEN_TYPE}


def good_payload() -> dict:
    now = time.time()
    return {
        "iss": "iss-test",
        "aud": "aud-test",
        "sub": "u1",
        "sid": "s1",
        "jti": "j1",
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 900,
        "roles": ["admin"],
        "username": "alice",
    }


# JSON values of every kind, the odd ones included: huge integers, NaN and
# infinities (Python's json writes and reads them), lone surrogates, nesting.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
claim_names = st.sampled_from([*REQUIRED_CLAIMS, "typ", "kid", "alg", "jku", "jwk", "x5u", "crit"])


def json_bytes(value) -> bytes:
    """``value`` as Python's json writes it (NaN/Infinity included); lone surrogates escaped."""
    return json.dumps(value).encode("ascii")


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


segments = st.one_of(
    st.binary(max_size=80).map(b64),
    json_values.map(json_bytes).map(b64),
    st.integers(1, 3000).map(deeply_nested).map(b64),
    st.text(B64URL, min_size=1, max_size=80),
)
canonical_signatures = st.builds(
    lambda body, last: body + last,
    st.text(B64URL, min_size=42, max_size=42),
    st.sampled_from("AEIMQUYcgkosw048"),
)


def assert_well_typed(claims: AccessClaims) -> None:
    """What verify may return: claims of the right types, nothing half-checked."""
    assert isinstance(claims, AccessClaims)
    for value in (claims.user_id, claims.username, claims.session_id, claims.token_id):
        assert isinstance(value, str) and value
    assert isinstance(claims.issued_at, float) and math.isfinite(claims.issued_at)
    assert isinstance(claims.expires_at, int)
    for instant in (claims.issued_at, claims.expires_at):
        assert 0 <= instant <= MAX_EPOCH_SECONDS
    assert all(isinstance(role, str) for role in claims.roles)


def verify_or_invalid(token: str) -> AccessClaims | None:
    """Run verify; ``InvalidToken`` is the only exception it may raise."""
    try:
        claims = VERIFIER.verify(token)
    except InvalidToken:
        return None
    assert_well_typed(claims)
    return claims


# --- the token verifier -----------------------------------------------------------------------


@PROFILE
@given(st.text(max_size=5000))
def test_any_text_is_refused_as_invalid_token(text):
    assert verify_or_invalid(text) is None


@PROFILE
@given(st.binary(max_size=500))
def test_any_bytes_as_a_header_value_are_refused(raw):
    # A WSGI server hands header values over as latin-1 text, whatever the bytes.
    assert verify_or_invalid(raw.decode("latin-1")) is None


@PROFILE
@given(header=segments, payload=segments, signature=canonical_signatures)
def test_well_formed_but_unsigned_tokens_are_refused(header, payload, signature):
    assert verify_or_invalid(f"{header}.{payload}.{signature}") is None


@PROFILE
@given(header=segments, payload=segments)
def test_correctly_signed_garbage_is_refused_without_crashing(header, payload):
    # Signed with the real key: gets past the signature to the header and claim checks.
    assert verify_or_invalid(sign(header, payload)) is None


@PROFILE
@given(
    header_changes=st.dictionaries(claim_names, json_values, max_size=3),
    header_drops=st.sets(st.sampled_from(["alg", "kid", "typ"]), max_size=2),
    payload_changes=st.dictionaries(claim_names, json_values, max_size=3),
    payload_drops=st.sets(st.sampled_from(REQUIRED_CLAIMS), max_size=2),
)
def test_signed_tokens_with_scrambled_fields_are_refused_or_well_typed(
    header_changes, header_drops, payload_changes, payload_drops
):
    header = {k: v for k, v in (good_header() | header_changes).items() if k not in header_drops}
    payload = {k: v for k, v in (good_payload() | payload_changes).items() if k not in payload_drops}
    token = sign(b64(json_bytes(header)), b64(json_bytes(payload)))
    claims = verify_or_invalid(token)
    if header_drops or set(header) != {"alg", "kid", "typ"} or payload_drops:
        assert claims is None
    if claims is not None:
        # Whatever got through is exactly what was signed.
        assert claims.user_id == payload["sub"] and claims.session_id == payload["sid"]
        assert list(claims.roles) == payload["roles"]


# Numbers no clock reaches: huge integers and floats, infinities, NaN, negatives,
# and the first second after 9999-12-31. PyJWT accepts an `exp` of 1e30 as
# "not expired"; building the claims from it must still end in InvalidToken.
out_of_range_times = st.one_of(
    st.integers(min_value=MAX_EPOCH_SECONDS + 1, max_value=10**400),
    st.floats(min_value=MAX_EPOCH_SECONDS + 1, allow_infinity=True, allow_nan=False),
    st.just(math.nan),
    st.sampled_from([1e30, 1e308, -1, -1e30, -(10**30)]),
)


@PROFILE
@given(claim=st.sampled_from(["iat", "nbf", "exp"]), value=out_of_range_times)
def test_signed_tokens_with_out_of_range_times_are_refused(claim, value):
    payload = good_payload() | {claim: value}
    assert verify_or_invalid(sign(b64(json_bytes(good_header())), b64(json_bytes(payload)))) is None


def _edit_positions(token: str) -> list[int]:
    """Where edits matter most: both ends, around the dots, the signature's last character."""
    dots = [i for i, char in enumerate(token) if char == "."]
    near = {0, 1, len(token) - 2, len(token) - 1} | {i + d for i in dots for d in (-1, 0, 1)}
    return sorted(near)


@PROFILE
@given(data=st.data())
def test_any_one_character_edit_of_a_valid_token_is_refused(data):
    token = VALID_TOKEN
    assert VERIFIER.verify(token) == VALID_CLAIMS
    edit = data.draw(st.sampled_from(["replace", "insert", "delete", "append"]))
    position = data.draw(st.sampled_from(_edit_positions(token)) | st.integers(0, len(token) - 1))
    char = data.draw(st.sampled_from(B64URL + "=+/. \t%") | st.characters())
    if edit == "replace":
        assume(token[position] != char)
        edited = token[:position] + char + token[position + 1 :]
    elif edit == "insert":
        edited = token[:position] + char + token[position:]
    elif edit == "delete":
        edited = token[:position] + token[position + 1 :]
    else:
        edited = token + char
    assert verify_or_invalid(edited) is None


def lenient_b64decode(segment: str) -> bytes:
    """How a base64 decoder (PyJWT's too) reads a segment: padding, alphabet and unused bits ignored."""
    core = segment.rstrip("=").replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))


@st.composite
def respelled_segment(draw, segment: str) -> str:
    """``segment`` spelled another way that decodes to the same bytes (maybe the same way)."""
    unused_bits = {2: 4, 3: 2}.get(len(segment) % 4, 0)
    if unused_bits and draw(st.booleans()):
        value = B64URL.index(segment[-1]) ^ draw(st.integers(0, 2**unused_bits - 1))
        segment = segment[:-1] + B64URL[value]
    if draw(st.booleans()):
        segment = segment.translate(str.maketrans("-_", "+/"))
    return segment + "=" * draw(st.integers(0, 2))


@PROFILE
@given(data=st.data())
def test_other_spellings_of_the_same_token_are_refused(data):
    # PyJWT alone accepts '=' padding, the '+/' alphabet and a changed unused last
    # bit; one token must have one spelling, or revocation by token could be dodged.
    segments = VALID_TOKEN.split(".")
    respelled = list(segments)
    for index in data.draw(st.sets(st.sampled_from([0, 1, 2]), min_size=1)):
        respelled[index] = data.draw(respelled_segment(segments[index]))
    assume(respelled != segments)
    assert [lenient_b64decode(s) for s in respelled] == [lenient_b64decode(s) for s in segments]
    assert verify_or_invalid(".".join(respelled)) is None


# --- the Authorization header -----------------------------------------------------------------


def bearer_outcome(header: str | None):
    """What the bearer check of a protected route does with this header value."""
    environ = {} if header is None else {"HTTP_AUTHORIZATION": header}
    with APP.test_request_context("/api/v1/me", environ_overrides=environ) as ctx:
        try:
            return VERIFIER.verify(bearer_token(ctx.request))
        except (MissingToken, InvalidTokenError) as error:
            return error
        except InvalidToken:
            return InvalidTokenError()


header_values = st.one_of(
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
    st.text(max_size=300),
    st.builds(
        lambda scheme, sep, token: scheme + sep + token,
        st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Bearer:", "", "Token"]),
        st.sampled_from(["", " ", "  ", "\t", " \t"]),
        st.text(max_size=200) | segments,
    ),
)


@REQUEST_PROFILE
@given(header_values)
def test_any_authorization_header_is_a_401_error(header):
    outcome = bearer_outcome(header)
    assert isinstance(outcome, (MissingToken, InvalidTokenError)), outcome
    assert outcome.status == 401
    assert outcome.headers["WWW-Authenticate"].startswith("Bearer ")


def test_no_authorization_header_is_missing_token():
    assert isinstance(bearer_outcome(None), MissingToken)


@REQUEST_PROFILE
@given(scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]))
def test_a_valid_token_passes_with_the_scheme_in_any_case(scheme):
    assert bearer_outcome(f"{scheme} {VALID_TOKEN}") == VALID_CLAIMS


@REQUEST_PROFILE
@given(
    before=st.sampled_from(["", " ", "\t"]),
    gap=st.sampled_from(["  ", "\t", " \t", ""]),
    after=st.sampled_from(["", " ", "\t", " x"]),
)
def test_a_valid_token_with_extra_whitespace_is_refused(before, gap, after):
    assume(before or gap or after)
    separator = gap or " "
    assert isinstance(bearer_outcome(f"{before}Bearer{separator}{VALID_TOKEN}{after}"), ApiError)


# --- JSON request bodies ----------------------------------------------------------------------


def read_body(body: bytes, content_type: str | None):
    """The body reader's verdict: the dict, or the ApiError it raised."""
    with APP.test_request_context(
        "/auth/login", method="POST", data=body, environ_overrides={"CONTENT_TYPE": content_type or ""}
    ) as ctx:
        try:
            return read_json_object(ctx.request)
        except ApiError as error:
            return error


json_documents = st.one_of(
    st.binary(max_size=400),
    json_values.map(json_bytes),
    st.dictionaries(st.text(max_size=8), json_values, max_size=5).map(json_bytes),
    st.integers(1, 5000).map(deeply_nested),
    st.integers(1, 5000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/json;",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json-patch+json",
            "",
        ]
    ),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
    st.none(),
)


@REQUEST_PROFILE
@given(body=json_documents, content_type=content_types)
def test_any_body_is_an_object_a_400_or_a_415(body, content_type):
    outcome = read_body(body, content_type)
    if isinstance(outcome, ApiError):
        assert isinstance(outcome, (BadRequest, UnsupportedMediaType)), outcome
        assert (outcome.status, outcome.code) in {(400, "bad_request"), (415, "unsupported_media_type")}
    else:
        assert isinstance(outcome, dict)
        assert outcome == orjson.loads(body)


@REQUEST_PROFILE
@given(body=json_documents)
def test_a_body_that_is_not_application_json_is_415_whatever_it_holds(body):
    assert isinstance(read_body(body, "text/plain"), UnsupportedMediaType)


@REQUEST_PROFILE
@given(value=json_values)
def test_json_the_strict_parser_refuses_is_400_never_500(value):
    body = json_bytes(value)
    outcome = read_body(body, "application/json")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        assert isinstance(outcome, BadRequest)  # NaN, Infinity, numbers orjson can't hold, ...
        return
    if isinstance(parsed, dict):
        assert outcome == parsed
    else:
        assert isinstance(outcome, BadRequest)


def test_nesting_up_to_1024_levels_is_read():
    assert isinstance(read_body(b'{"a":' + deeply_nested(1023) + b"}", "application/json"), dict)


# Up to 30,000 levels: 60 KB, under the 64 KiB Flask limit (nginx stops 16 KiB already).
@pytest.mark.parametrize("depth", [1024, 1025, 5000, 30_000])
def test_deeper_nesting_is_400(depth):
    assert isinstance(read_body(b'{"a":' + deeply_nested(depth) + b"}", "application/json"), BadRequest)
