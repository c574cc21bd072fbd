"""Battery 1: token forgery and validation, each case a real request through nginx.

Every forged, altered, re-encoded, misplaced or oversized token must end in
401 (``invalid_token``, or ``missing_token`` when there is no usable bearer
credential) with ``WWW-Authenticate: Bearer``, or in nginx's 400/431 JSON
for what nginx itself refuses, and never in a 500. Each rejection is
checked next to a control: the genuine token it was made from still gets
200 in the same test, so a broken stack that refuses everything can't make
this battery pass.

What can't be tested from outside is covered by unit tests: without the
secret nobody can sign a token that is expired, within the leeway, not yet
valid, or missing a claim, so authcore/tests/test_tokens.py pins those rules
(``test_time_claims_respect_the_leeway``, ``test_every_claim_is_required``,
``test_wrong_values_and_types_are_rejected``). Here, each of those claims is
edited under the genuine signature instead, which must fail too.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass

import pytest

from tests.helpers import assert_error, bearer
from tests.security.conftest import ATTACKER_KEY

# ---------------------------------------------------------------------------
# Token surgery


def b64(data: bytes) -> str:
    """base64url without padding (the JWS encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def seg(value) -> str:
    """A JSON value as a JWS segment (compact JSON, like the issuer writes)."""
    return b64(json.dumps(value, separators=(",", ":")).encode())


def hs_sign(signing_input: str, key: bytes, alg: str = "HS256") -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return b64(hmac.new(key, signing_input.encode(), digest).digest())


@dataclass(frozen=True)
class Genuine:
    """A token the stack issued, taken apart."""

    token: str

    @property
    def parts(self) -> list[str]:
        return self.token.split(".")

    @property
    def h(self) -> str:
        return self.parts[0]

    @property
    def p(self) -> str:
        return self.parts[1]

    @property
    def s(self) -> str:
        return self.parts[2]

    @property
    def header(self) -> dict:
        return json.loads(unb64(self.h))

    @property
    def claims(self) -> dict:
        return json.loads(unb64(self.p))

    def with_claims(self, **changes) -> str:
        """The payload edited (``None`` removes a claim), the genuine header and signature kept."""
        claims = self.claims | changes
        claims = {name: value for name, value in claims.items() if value is not None}
        return f"{self.h}.{seg(claims)}.{self.s}"

    def with_header(self, **changes) -> str:
        """The header edited (``None`` removes a field), the genuine payload and signature kept."""
        header = self.header | changes
        header = {name: value for name, value in header.items() if value is not None}
        return f"{seg(header)}.{self.p}.{self.s}"

    def resigned(
        self, key: bytes, alg: str = "HS256", header: dict | None = None, claims: dict | None = None
    ):
        """The genuine claims under a header of our choice, HMAC-signed with a key we guessed."""
        header = {"alg": alg, "typ": "at+jwt", "kid": self.header["kid"]} if header is None else header
        signing_input = f"{seg(header)}.{seg(self.claims if claims is None else claims)}"
        return f"{signing_input}.{hs_sign(signing_input, key, alg)}"

    def unsigned(self, header: dict, signature: str = "") -> str:
        return f"{seg(header)}.{self.p}.{signature}"


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip_char(segment: str, index: int) -> str:
    """``segment`` with one character replaced by another that changes the decoded bytes."""
    char = segment[index]
    position = _B64URL.index(char)
    replacement = _B64URL[position ^ 0b100000]  # flips a high bit, never only the unused low bits
    return segment[:index] + replacement + segment[index + 1 :]


def non_canonical_endings(segment: str) -> list[str]:
    """The same bytes written differently: the unused low bits of the last character set.

    A 32-byte HMAC takes 43 base64url characters, whose last one carries 4
    bits and 2 unused ones; RFC 4648 section 3.5 makes them zero, and lenient
    decoders ignore them, so each of these decodes to the genuine signature.
    """
    position = _B64URL.index(segment[-1])
    base = position & ~0b11
    return [segment[:-1] + _B64URL[base | low] for low in (1, 2, 3) if base | low != position]


# ---------------------------------------------------------------------------
# Fixtures and the one assertion of the battery


@pytest.fixture
def genuine(victim) -> Genuine:
    return Genuine(victim["access_token"])


def assert_rejected(response, *, codes=("invalid_token",), control=None, api=None, nginx_statuses=()) -> None:
    """401 with the docs/API.md shape and a Bearer challenge (or an nginx JSON refusal); then the control."""
    if response.status_code in nginx_statuses:
        assert response.headers["Content-Type"].startswith("application/json")
    else:
        assert response.status_code == 401, (response.status_code, response.text)
        assert response.json()["error"] in codes, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), response.headers
        if response.json()["error"] == "invalid_token":
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    if control is not None:
        check = api.me(control)
        assert check.status_code == 200, ("the genuine token was refused too", check.text)


def test_a_genuine_token_works_through_nginx(api, genuine):
    """The baseline every case below is measured against."""
    response = api.me(genuine.token)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == genuine.claims["username"]
    assert genuine.header["alg"] == "HS256" and genuine.header["typ"] == "at+jwt"
    assert set(genuine.header) == {"alg", "typ", "kid"}
    assert len(genuine.s) == 43


# ---------------------------------------------------------------------------
# alg "none" in every casing, with and without a signature


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "genuine", "junk"])
def test_alg_none_in_any_casing_is_401(api, genuine, alg, signature):
    sig = {"": "", "genuine": genuine.s, "junk": b64(b"x" * 32)}[signature]
    header = {"alg": alg, "typ": "at+jwt", "kid": genuine.header["kid"]}
    assert_rejected(api.me(genuine.unsigned(header, sig)), control=genuine.token, api=api)


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "at+jwt"},  # no alg at all
        {"alg": "", "typ": "at+jwt"},
        {"alg": None, "typ": "at+jwt"},
        {"alg": ["HS256"], "typ": "at+jwt"},
        {"alg": "hs256", "typ": "at+jwt"},
        {"alg": "HS256 ", "typ": "at+jwt"},
    ],
    ids=["missing", "empty", "null", "list", "lowercase", "trailing-space"],
)
def test_absent_or_odd_alg_with_the_genuine_signature_is_401(api, genuine, header):
    header = {**header, "kid": genuine.header["kid"]}
    assert_rejected(api.me(genuine.unsigned(header, genuine.s)), control=genuine.token, api=api)


# ---------------------------------------------------------------------------
# The signature stripped, truncated, changed


@pytest.mark.parametrize(
    "forge",
    [
        lambda g: f"{g.h}.{g.p}.",
        lambda g: f"{g.h}.{g.p}",
        lambda g: f"{g.h}.{g.p}.{g.s[:-1]}",
        lambda g: f"{g.h}.{g.p}.{g.s[:22]}",
        lambda g: f"{g.h}.{g.p}.{g.s[:1]}",
        lambda g: f"{g.h}.{g.p}.{flip_char(g.s, 0)}",
        lambda g: f"{g.h}.{g.p}.{flip_char(g.s, 20)}",
        lambda g: f"{g.h}.{g.p}.{flip_char(g.s, 42)}",
        lambda g: f"{g.h}.{g.p}.{g.s}{g.s}",
        lambda g: f"{g.h}.{g.p}.{b64(bytes(32))}",
        lambda g: f"{g.h}.{g.p}.{b64(hashlib.sha256(g.h.encode() + b'.' + g.p.encode()).digest())}",
    ],
    ids=[
        "stripped",
        "stripped-with-dot",
        "truncated-1",
        "truncated-half",
        "truncated-to-1",
        "first-char",
        "middle-char",
        "last-char",
        "doubled",
        "zeros",
        "unkeyed-sha256",
    ],
)
def test_a_stripped_truncated_or_changed_signature_is_401(api, genuine, forge):
    forged = forge(genuine)
    assert forged != genuine.token
    assert_rejected(api.me(forged), control=genuine.token, api=api)


def test_the_signature_in_a_non_canonical_encoding_is_401(api, genuine):
    """The last character's two unused bits set: same bytes, different text (RFC 4648 3.5).

    A verifier that decodes leniently accepts these; the stack promises one
    encoding per token (tokens.py: COMPACT_JWS refuses '=' and '+/' for that
    reason), so these must be refused as well.
    """
    variants = non_canonical_endings(genuine.s)
    assert len(variants) == 3
    statuses = {v: api.me(f"{genuine.h}.{genuine.p}.{v}").status_code for v in variants}
    assert set(statuses.values()) == {401}, statuses
    assert api.me(genuine.token).status_code == 200


# ---------------------------------------------------------------------------
# The payload (and header) edited, the genuine signature kept


def _payload_edits():
    now = int(time.time())
    return {
        "roles-admin": {"roles": ["admin"]},
        "sub-other-user": {"sub": str(uuid.uuid4())},
        "sid-other-session": {"sid": str(uuid.uuid4())},
        "jti-other": {"jti": str(uuid.uuid4())},
        "username-other": {"username": "someone-else"},
        "exp-plus-a-day": {"exp": now + 86_400},
        "exp-in-the-past": {"exp": now - 3600},
        "exp-removed": {"exp": None},
        "exp-as-string": {"exp": str(now + 86_400)},
        "exp-as-float": {"exp": now + 900.5},
        "nbf-in-the-future": {"nbf": now + 3600},
        "iat-in-the-future": {"iat": now + 3600},
        "iat-removed": {"iat": None},
        "iss-wrong": {"iss": "https://evil.example"},
        "aud-wrong": {"aud": "someone-else"},
        "aud-as-list": {"aud": ["authstack-api", "someone-else"]},
        "extra-claim": {"admin": True},
    }


@pytest.mark.parametrize("edit", list(_payload_edits()))
def test_an_edited_payload_under_the_genuine_signature_is_401(api, genuine, edit):
    changes = _payload_edits()[edit]
    if edit == "aud-as-list":
        changes = {"aud": [genuine.claims["aud"], "someone-else"]}
    forged = genuine.with_claims(**changes)
    assert forged != genuine.token
    path = "/api/v1/admin" if edit == "roles-admin" else "/api/v1/me"
    assert_rejected(api.get(path, token=forged), control=genuine.token, api=api)


def test_the_same_claims_serialised_differently_are_401(api, genuine):
    """The signature covers the bytes, not the meaning: reordered or spaced JSON fails."""
    claims = genuine.claims
    reordered = b64(json.dumps(dict(reversed(claims.items())), separators=(",", ":")).encode())
    spaced = b64(json.dumps(claims).encode())
    for payload in (reordered, spaced):
        assert_rejected(api.me(f"{genuine.h}.{payload}.{genuine.s}"), control=genuine.token, api=api)


@pytest.mark.parametrize(
    "changes",
    [
        {"typ": "JWT"},
        {"typ": None},
        {"typ": "AT+JWT"},
        {"alg": "HS384"},
        {"alg": "HS512"},
        {"kid": "k0"},
        {"kid": None},
        {"cty": "JWT"},
    ],
    ids=[
        "typ-JWT",
        "typ-removed",
        "typ-uppercase",
        "alg-HS384",
        "alg-HS512",
        "kid-other",
        "kid-removed",
        "cty",
    ],
)
def test_an_edited_header_under_the_genuine_signature_is_401(api, genuine, changes):
    assert_rejected(api.me(genuine.with_header(**changes)), control=genuine.token, api=api)


# ---------------------------------------------------------------------------
# Duplicate claims spliced under the genuine signature


def _splice(segment: str, extra: str, *, first: bool) -> str:
    text = unb64(segment).decode()
    assert text.startswith("{") and text.endswith("}")
    spliced = "{" + extra + "," + text[1:] if first else text[:-1] + "," + extra + "}"
    return b64(spliced.encode())


@pytest.mark.parametrize(
    ("where", "extra", "first"),
    [
        ("payload", '"roles":["admin"]', False),  # last one wins in most parsers
        ("payload", '"roles":["admin"]', True),  # first one wins in others
        ("payload", '"sub":"00000000-0000-0000-0000-000000000000"', False),
        ("payload", '"exp":9999999999', False),
        ("payload", '"sid":"00000000-0000-0000-0000-000000000000"', True),
        ("header", '"alg":"none"', False),
        ("header", '"kid":"../../dev/null"', False),
        ("header", '"typ":"JWT"', True),
    ],
)
def test_duplicate_claims_spliced_in_are_401(api, genuine, where, extra, first):
    if where == "payload":
        forged = f"{genuine.h}.{_splice(genuine.p, extra, first=first)}.{genuine.s}"
    else:
        forged = f"{_splice(genuine.h, extra, first=first)}.{genuine.p}.{genuine.s}"
    assert_rejected(api.get("/api/v1/admin", token=forged), control=genuine.token, api=api)


# ---------------------------------------------------------------------------
# Other algorithms; weak guessed secrets


WEAK_SECRETS = [b"secret", b"", b"password", b"changeme", b"authstack", b"your-256-bit-secret", b"null"]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("key", [*WEAK_SECRETS, "kid"], ids=lambda k: repr(k))
def test_a_token_signed_with_a_guessed_weak_secret_is_401(api, genuine, alg, key):
    key = genuine.header["kid"].encode() if key == "kid" else key
    assert_rejected(api.me(genuine.resigned(key, alg)), control=genuine.token, api=api)


@pytest.mark.parametrize(
    ("alg", "signature_bytes"),
    [("RS256", 256), ("RS512", 512), ("PS256", 256), ("ES256", 64), ("ES384", 96), ("EdDSA", 64)],
)
def test_asymmetric_algorithms_with_junk_signatures_are_401(api, genuine, alg, signature_bytes):
    header = {"alg": alg, "typ": "at+jwt", "kid": genuine.header["kid"]}
    forged = genuine.unsigned(header, b64(secrets.token_bytes(signature_bytes)))
    assert_rejected(api.me(forged), control=genuine.token, api=api)


# ---------------------------------------------------------------------------
# Header tricks that point the verifier at another key


def test_an_embedded_jwk_is_ignored_and_refused(api, genuine):
    """The attacker's key inside the header, the token signed with it."""
    jwk = {"kty": "oct", "k": b64(ATTACKER_KEY), "alg": "HS256"}
    for kid in (genuine.header["kid"], "attacker"):
        header = {"alg": "HS256", "typ": "at+jwt", "kid": kid, "jwk": jwk}
        assert_rejected(api.me(genuine.resigned(ATTACKER_KEY, header=header)), control=genuine.token, api=api)


@pytest.mark.parametrize("field", ["jku", "x5u"])
@pytest.mark.parametrize("kid", ["genuine", "attacker"])
def test_jku_and_x5u_are_never_fetched(api, genuine, listener, field, kid):
    """The URL points at a listener of ours: it must see no connection at all."""
    kid = genuine.header["kid"] if kid == "genuine" else "attacker"
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid, field: listener.url + "/jwks.json"}
    signed = genuine.resigned(ATTACKER_KEY, header=header)
    under_genuine_signature = genuine.with_header(**{field: listener.url + "/jwks.json"})
    for forged in (signed, under_genuine_signature):
        assert_rejected(api.me(forged), control=genuine.token, api=api)
        assert_rejected(api.get("/auth/sessions", token=forged))
    time.sleep(0.3)  # room for a fetch that a worker might have started in the background
    assert listener.connections == 0


def test_x5c_and_crit_headers_are_401(api, genuine, listener):
    for extra in (
        {"x5c": [b64(secrets.token_bytes(300))]},
        {"crit": ["exp"], "exp": 1},
        {"kid": listener.url + "/key"},
        {"kid": f"127.0.0.1:{listener.port}"},
    ):
        header = {"alg": "HS256", "typ": "at+jwt", "kid": genuine.header["kid"], **extra}
        assert_rejected(api.me(genuine.resigned(ATTACKER_KEY, header=header)), control=genuine.token, api=api)
    time.sleep(0.3)
    assert listener.connections == 0


@pytest.mark.parametrize(
    "kid",
    [
        "../../dev/null",
        "/dev/null",
        "../../../../../../etc/passwd",
        "' OR 1=1 --",
        "x' UNION SELECT 'secret' --",
        "$(id)",
        "`id`",
        "|id",
        ";id",
        "k1\x00",
        "K" * 3000,
        "",
        None,
        0,
        1,
        True,
        ["k1"],
        {"kid": "k1"},
    ],
    ids=lambda k: repr(k)[:24],
)
@pytest.mark.parametrize("key", [b"", b"secret"], ids=["empty-key", "secret-key"])
def test_kid_injection_is_401(api, genuine, kid, key):
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    forged = genuine.resigned(key, header=header)
    assert_rejected(api.me(forged), control=genuine.token, api=api)
    assert_rejected(api.get("/auth/sessions", token=forged))


def test_the_genuine_kid_with_a_guessed_key_is_401(api, genuine):
    """The kid is a name, not a key: knowing it (it's in every token) must not help."""
    kid = genuine.header["kid"]
    for key in (kid.encode(), kid.encode() * 32, b"\x00" * 32):
        assert_rejected(api.me(genuine.resigned(key)), control=genuine.token, api=api)


# ---------------------------------------------------------------------------
# Access and refresh tokens are not interchangeable


PROTECTED = [
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/admin", None),
    ("GET", "/auth/sessions", None),
    ("POST", "/auth/logout", None),
    ("POST", "/auth/logout-all", None),
    ("DELETE", "/auth/sessions/{sid}", None),
    ("POST", "/auth/password", {"current_password": "x" * 10, "new_password": "y" * 12}),
    ("PUT", "/auth/users/{username}/roles/admin", None),
    ("DELETE", "/auth/users/{username}/roles/admin", None),
    ("POST", "/auth/users/{username}/disable", None),
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_a_refresh_token_is_no_bearer_token_on_any_route(api, victim, method, path, body):
    path = path.format(sid=Genuine(victim["access_token"]).claims["sid"], username=victim["username"])
    response = api.request(method, path, json=body, headers=bearer(victim["refresh_token"]))
    assert_rejected(response, control=victim["access_token"], api=api)


def test_an_access_token_in_any_shape_is_no_refresh_token(api, logged_in):
    """Access tokens (whole, as a bearer header, dressed as rt_...) never refresh; nothing is hurt."""
    access = logged_in["access_token"]
    for presented in (f"rt_{Genuine(access).s}", "rt_" + access[:43], f"Bearer {access}"):
        assert_error(api.post("/auth/refresh", {"refresh_token": presented}), 401, "invalid_token")
    # A refresh token in the Authorization header of /auth/refresh is not the body it needs.
    response = api.post("/auth/refresh", {}, token=logged_in["refresh_token"])
    assert_error(response, 422, "validation_failed")
    # None of it ended the session or burnt the refresh token.
    assert api.me(access).status_code == 200
    assert api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}).status_code == 200


# ---------------------------------------------------------------------------
# Malformed tokens


def _header_bytes(g: Genuine, tail: bytes) -> str:
    """The genuine header's JSON with ``tail`` spliced in before its closing brace, as a segment."""
    return b64(unb64(g.h)[:-1] + tail + b"}")


def _resigned_array_payload(g: Genuine) -> str:
    signing_input = f"{g.h}.{seg([1, 2])}"
    return f"{signing_input}.{hs_sign(signing_input, b'secret')}"


MALFORMED = {
    "two-segments": lambda g: f"{g.h}.{g.p}",
    "four-segments": lambda g: f"{g.h}.{g.p}.{g.s}.{g.s}",
    "trailing-dot": lambda g: f"{g.token}.",
    "leading-dot": lambda g: f".{g.token}",
    "five-segments-jwe-shape": lambda g: f"{g.h}.{g.p}.{g.s}.{g.s}.{g.s}",
    "all-empty": lambda g: "..",
    "empty-header": lambda g: f".{g.p}.{g.s}",
    "empty-payload": lambda g: f"{g.h}..{g.s}",
    "only-dots": lambda g: "....",
    "bang-in-signature": lambda g: f"{g.h}.{g.p}.{g.s[:-1]}!",
    "star-in-header": lambda g: f"*{g.h[1:]}.{g.p}.{g.s}",
    "percent-in-payload": lambda g: f"{g.h}.{g.p[:-1]}%3D.{g.s}",
    "tilde": lambda g: f"{g.h}.{g.p}.{g.s[:-1]}~",
    "latin1-e-acute": lambda g: f"{g.h}.{g.p}.{g.s[:-1]}\u00e9",
    "header-invalid-utf8": lambda g: ".".join([_header_bytes(g, b',"x":"\xff\xfe"'), g.p, g.s]),
    "header-latin1": lambda g: ".".join([_header_bytes(g, b',"x":"\xe9"'), g.p, g.s]),
    "header-overlong-utf8": lambda g: ".".join([_header_bytes(g, b',"x":"\xc0\xaf"'), g.p, g.s]),
    "payload-invalid-utf8": lambda g: ".".join([g.h, b64(unb64(g.p)[:-1] + b',"x":"\xc3\x28"}'), g.s]),
    "header-json-array": lambda g: f"{seg([g.header])}.{g.p}.{g.s}",
    "header-json-null": lambda g: f"{seg(None)}.{g.p}.{g.s}",
    "header-json-string": lambda g: f"{seg('HS256')}.{g.p}.{g.s}",
    "header-json-number": lambda g: f"{seg(1)}.{g.p}.{g.s}",
    "header-not-json": lambda g: f"{b64(b'alg=HS256')}.{g.p}.{g.s}",
    "header-deep-nesting": lambda g: f"{b64(b'[' * 2000 + b']' * 2000)}.{g.p}.{g.s}",
    "header-huge-number": lambda g: ".".join([_header_bytes(g, b',"x":1e999999'), g.p, g.s]),
    "header-nan": lambda g: ".".join([_header_bytes(g, b',"x":NaN'), g.p, g.s]),
    "header-lone-surrogate": lambda g: ".".join([_header_bytes(g, b',"x":"\\ud800"'), g.p, g.s]),
    "header-bom": lambda g: ".".join([b64(b"\xef\xbb\xbf" + unb64(g.h)), g.p, g.s]),
    "payload-json-array": lambda g: f"{g.h}.{seg([g.claims])}.{g.s}",
    "payload-json-null": lambda g: f"{g.h}.{seg(None)}.{g.s}",
    "segment-length-1-mod-4": lambda g: f"{g.h}.{g.p}.{g.s}AA",
    "resigned-array-payload": _resigned_array_payload,
    "whitespace-inside": lambda g: g.h + ".\t" + g.p + "." + g.s,
    "just-a-word": lambda g: "token",
    "json-instead-of-jws": lambda g: json.dumps(g.claims),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_tokens_are_401(api, raw_http, genuine, case):
    forged = MALFORMED[case](genuine)
    if any(ord(c) > 127 or c in "\t" for c in forged):
        # requests would refuse or re-encode these; send the bytes as they are.
        response = raw_http.request("GET", "/api/v1/me", [("Authorization", "Bearer " + forged)])
        assert response.status == 401, response.body
        assert response.json()["error"] in ("invalid_token", "missing_token")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert api.me(genuine.token).status_code == 200
        return
    assert_rejected(api.me(forged), control=genuine.token, api=api)


def test_utf8_bytes_in_the_authorization_header_are_401(raw_http, api, genuine):
    token = f"{genuine.h}.{genuine.p}.{genuine.s[:-1]}"
    for tail in ("\u00e9", "\u2603", "\U0001f600"):
        header = f"Authorization: Bearer {token}{tail}\r\n".encode()
        response = raw_http.request("GET", "/api/v1/me", raw_headers=header)
        assert response.status == 401, response.body
        assert response.json()["error"] == "invalid_token"
    assert api.me(genuine.token).status_code == 200


# ---------------------------------------------------------------------------
# Padding and alphabet variants of a genuine token, and revocation across them


def _std(segment: str, *, pad: bool) -> str:
    """The same bytes in the standard (+/) alphabet, padded or not."""
    encoded = base64.b64encode(unb64(segment)).decode()
    return encoded if pad else encoded.rstrip("=")


def _padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


VARIANTS = {
    "header-pad": lambda t: ".".join([_padded(t.h) if len(t.h) % 4 else t.h + "==", t.p, t.s]),
    "payload-pad": lambda t: ".".join([t.h, t.p + "=", t.s]),
    "signature-pad": lambda t: ".".join([t.h, t.p, _padded(t.s)]),
    "signature-double-pad": lambda t: ".".join([t.h, t.p, t.s + "=="]),
    "every-segment-pad": lambda t: ".".join(s + "=" for s in t.parts),
    "every-segment-proper-padding": lambda t: ".".join(_padded(s) for s in t.parts),
    "signature-std-alphabet": lambda t: ".".join([t.h, t.p, _std(t.s, pad=False)]),
    "signature-std-alphabet-padded": lambda t: ".".join([t.h, t.p, _std(t.s, pad=True)]),
    "all-std-alphabet-padded": lambda t: ".".join(_std(s, pad=True) for s in t.parts),
    "signature-std-percent-encoded": lambda t: ".".join(
        [t.h, t.p, _std(t.s, pad=True).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")]
    ),
    "signature-non-canonical-1": lambda t: ".".join([t.h, t.p, non_canonical_endings(t.s)[0]]),
    "signature-non-canonical-2": lambda t: ".".join([t.h, t.p, non_canonical_endings(t.s)[1]]),
    "signature-non-canonical-3": lambda t: ".".join([t.h, t.p, non_canonical_endings(t.s)[2]]),
}


def _login_until_signature_has_urlsafe_chars(api, user) -> Genuine:
    """A token whose signature holds '-' or '_', so its '+/' re-encoding really differs."""
    for _ in range(30):
        token = Genuine(api.login(user["username"], user["password"])["access_token"])
        if "-" in token.s or "_" in token.s:
            return token
    pytest.fail("30 logins without '-' or '_' in the signature")


@pytest.fixture(scope="module")
def live_and_revoked(module_api) -> dict:
    """One user: a live token, a token of a session ended by logout, one cut off by logout-all."""
    user = module_api.create_user()
    other = module_api.create_user()
    logged_out = _login_until_signature_has_urlsafe_chars(module_api, user)
    assert module_api.me(logged_out.token).status_code == 200
    assert module_api.post("/auth/logout", token=logged_out.token).status_code == 204
    cut_off = _login_until_signature_has_urlsafe_chars(module_api, other)
    assert module_api.me(cut_off.token).status_code == 200
    assert module_api.post("/auth/logout-all", token=cut_off.token).status_code == 204
    live = _login_until_signature_has_urlsafe_chars(module_api, user)
    return {"live": live, "logged_out": logged_out, "cut_off": cut_off}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_re_encodings_of_a_live_token_are_401(api, live_and_revoked, variant):
    live = live_and_revoked["live"]
    re_encoded = VARIANTS[variant](live)
    assert re_encoded != live.token
    assert_rejected(api.me(re_encoded), control=live.token, api=api)


@pytest.mark.parametrize("revoked_by", ["logged_out", "cut_off"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_revocation_holds_for_every_re_encoding(api, live_and_revoked, revoked_by, variant):
    """Logout (session) and logout-all (user cutoff) stay in force whatever the encoding."""
    revoked = live_and_revoked[revoked_by]
    re_encoded = VARIANTS[variant](revoked)
    assert re_encoded != revoked.token
    assert_error(api.me(revoked.token), 401, "invalid_token")
    assert_rejected(api.me(re_encoded), control=live_and_revoked["live"].token, api=api)
    assert_rejected(api.post("/auth/logout", token=re_encoded))


# ---------------------------------------------------------------------------
# The Authorization header: scheme casing, whitespace, duplicates


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_scheme_is_case_insensitive(api, genuine, scheme):
    """RFC 7235 section 2.1: auth-scheme is case-insensitive (the control side of the tricks below)."""
    response = api.get("/api/v1/me", headers={"Authorization": f"{scheme} {genuine.token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("template", "codes"),
    [
        ("Bearer  {t}", ("invalid_token",)),
        ("Bearer   {t}", ("invalid_token",)),
        ("Bearer\t{t}", ("missing_token", "invalid_token")),
        ("Bearer Bearer {t}", ("invalid_token",)),
        ("Bearer {t} {t}", ("invalid_token",)),
        ("Bearer {t},Bearer {t}", ("invalid_token",)),
        ("Bearer {t}, Bearer {t}", ("invalid_token",)),
        ("Bearer:{t}", ("missing_token",)),
        ("Bearer={t}", ("missing_token",)),
        ("Bearer{t}", ("missing_token",)),
        ('Bearer "{t}"', ("invalid_token",)),
        ("Bearer token={t}", ("invalid_token",)),
        ("Bearer\u00a0{t}", ("missing_token",)),
        ("Basic {t}", ("missing_token",)),
        ("JWT {t}", ("missing_token",)),
        ("{t}", ("missing_token",)),
        # A control character makes the header itself invalid (RFC 9110 5.5): 400, not 401.
        ("Bearer {t}\x0b", ("bad_request",)),
    ],
    ids=[
        "two-spaces",
        "three-spaces",
        "tab",
        "bearer-twice",
        "token-twice",
        "comma-list",
        "comma-space-list",
        "colon",
        "equals",
        "no-separator",
        "quoted",
        "auth-param",
        "nbsp",
        "basic-scheme",
        "jwt-scheme",
        "no-scheme",
        "vertical-tab",
    ],
)
def test_scheme_and_whitespace_tricks_are_401(raw_http, api, genuine, template, codes):
    """Exactly ``Bearer <token>``; the rest is refused (sent raw so nothing is tidied on the way)."""
    value = template.format(t=genuine.token)
    response = raw_http.request(
        "GET", "/api/v1/me", raw_headers=f"Authorization: {value}\r\n".encode("latin-1")
    )
    assert response.json()["error"] in codes, response.body
    if codes == ("bad_request",):
        assert response.status == 400, (response.status, response.body)
    else:
        assert response.status == 401, (response.status, response.body)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.me(genuine.token).status_code == 200


@pytest.mark.parametrize("value", ["Bearer {t} ", " Bearer {t}", "Bearer {t}\t", "\tBearer {t}  "])
def test_whitespace_around_the_field_value_is_not_part_of_it(raw_http, genuine, value):
    """RFC 9110 section 5.5: leading/trailing whitespace around a field value is not part of it.

    nginx drops it before the service sees the header, so these are the
    plain header and work: a trailing space is not a different token.
    """
    line = f"Authorization: {value.format(t=genuine.token)}\r\n".encode()
    response = raw_http.request("GET", "/api/v1/me", raw_headers=line)
    assert response.status == 200, response.body


@pytest.mark.parametrize("first", ["genuine", "junk", "basic"])
def test_two_authorization_headers_are_refused(raw_http, api, genuine, first):
    """Authorization is not a list header: two of them are 400 (nginx) or 401, never a pick of one."""
    first_value = {"genuine": f"Bearer {genuine.token}", "junk": "Bearer junk", "basic": "Basic dTpw"}[first]
    headers = [("Authorization", first_value), ("Authorization", f"Bearer {genuine.token}")]
    response = raw_http.request("GET", "/api/v1/me", headers)
    assert response.status in (400, 401), response.body
    if response.status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.me(genuine.token).status_code == 200


# ---------------------------------------------------------------------------
# Tokens anywhere else than the Authorization header are ignored


def test_tokens_outside_the_authorization_header_are_ignored(api, logged_in, admin_token):
    access = logged_in["access_token"]
    places = [
        api.get("/api/v1/admin", params={"access_token": admin_token}),
        api.get("/auth/sessions", params={"access_token": access}),
        api.post("/auth/logout", params={"access_token": access}),
        api.request(
            "POST",
            "/auth/logout",
            data={"access_token": access},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        api.post("/auth/logout", {"access_token": access}),
        api.post("/auth/logout-all", {"token": access, "access_token": access}),
        api.get("/api/v1/me", headers={"Cookie": f"access_token={access}; token={access}"}),
        api.get("/api/v1/me", headers={"X-Access-Token": access, "X-Auth-Token": access}),
        api.get("/api/v1/me", headers={"Proxy-Authorization": f"Bearer {access}"}),
        api.get("/api/v1/me", headers={"X-Authorization": f"Bearer {access}"}),
    ]
    for response in places:
        assert_rejected(response, codes=("missing_token",))
        assert "error=" not in response.headers["WWW-Authenticate"]
    # Nothing was ended by the logout attempts, and a query-string token doesn't override a bad header.
    assert api.me(access).status_code == 200
    response = api.get(
        "/api/v1/me", params={"access_token": access}, headers={"Authorization": "Bearer junk"}
    )
    assert_rejected(response)


# ---------------------------------------------------------------------------
# Oversized tokens and headers


@pytest.mark.parametrize(
    "line_length", [4200, 6000, 8000, 8150, 8188, 8189, 8190, 8191, 8300, 9000, 16_000, 64_000]
)
def test_oversized_tokens_are_401_or_nginx_431_json(raw_http, api, genuine, line_length):
    """A token-shaped value in a header line of this many bytes: 401 below nginx's 8 KiB, then 431 JSON.

    The bands in between are where nginx lets a header through that the
    service's HTTP server refuses: that answer must be JSON too.
    """
    prefix = f"Authorization: Bearer {genuine.h}.{genuine.p}."
    line = prefix + "A" * (line_length - len(prefix))
    assert len(line) == line_length
    response = raw_http.request("GET", "/api/v1/me", raw_headers=line.encode() + b"\r\n")
    if line_length <= 8000:
        assert response.status == 401, (response.status, response.body)
        assert response.json()["error"] == "invalid_token"
    else:
        assert response.status in (401, 431), (response.status, response.body)
        if response.status == 431:
            assert response.json()["error"] == "headers_too_large"
    assert api.me(genuine.token).status_code == 200


def test_a_genuine_token_grown_past_the_length_limit_is_401(api, genuine):
    """Claims padded out (4-8 KiB), the genuine signature kept: refused, whatever the size check says."""
    for size in (2800, 4000, 5600):
        claims = genuine.claims | {"pad": "x" * size}
        forged = f"{genuine.h}.{seg(claims)}.{genuine.s}"
        assert 4096 < len(forged) < 8150
        assert_rejected(api.me(forged), control=genuine.token, api=api)


@pytest.mark.parametrize("count", [50, 96, 97, 150, 1000])
def test_many_headers_are_answered_in_json(raw_http, api, genuine, count):
    """A bearer token among many small headers: a 401/200 answer or a 431 JSON, never another page."""
    headers = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(count))
    line = f"Authorization: Bearer {genuine.token}\r\n".encode()
    response = raw_http.request("GET", "/api/v1/me", raw_headers=headers + line)
    assert response.status in (200, 431), (response.status, response.body)
    if response.status == 431:
        assert response.json()["error"] == "headers_too_large"


def test_headers_over_nginx_total_buffers_are_431_json(raw_http):
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 7000) for i in range(6))
    response = raw_http.request("GET", "/api/v1/me", raw_headers=headers + b"Authorization: Bearer x.y.z\r\n")
    assert response.status == 431, response.body
    assert response.json()["error"] == "headers_too_large"


# ---------------------------------------------------------------------------
# The whole set, on every protected route: no route verifies differently


def _route_sweep_forgeries(g: Genuine) -> dict[str, str]:
    kid = g.header["kid"]
    return {
        "alg-none": g.unsigned({"alg": "none", "typ": "at+jwt", "kid": kid}),
        "roles-admin-edited": g.with_claims(roles=["admin"]),
        "guessed-secret-admin": g.resigned(b"secret", claims=g.claims | {"roles": ["admin"]}),
        "jku": g.with_header(jku="http://127.0.0.1:1/jwks.json"),
        "signature-padded": f"{g.token}=",
        "signature-std-alphabet": f"{g.h}.{g.p}.{_std(g.s, pad=True)}",
        "junk": "a.b.c",
    }


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_every_protected_route_refuses_the_forgeries(api, victim, method, path, body):
    g = Genuine(victim["access_token"])
    path = path.format(sid=g.claims["sid"], username=victim["username"])
    for name, forged in _route_sweep_forgeries(g).items():
        response = api.request(method, path, json=body, headers=bearer(forged))
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert_rejected(response)
    # Nothing happened: the session lives, and no forged admin granted anything.
    assert api.me(victim["access_token"]).status_code == 200
    assert api.get("/api/v1/admin", token=victim["access_token"]).status_code == 403
