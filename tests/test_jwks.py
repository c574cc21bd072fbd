"""``GET /.well-known/jwks.json`` through nginx (docs/API.md "Published keys").

The suite's own stack signs with HS256, whose secret is never published: its
set holds only single sign-on's ID-token keys (none where the provider is off).
The EdDSA stack's set, and verifiers using it, are in tests/keys.
"""

import os

import pytest

from tests.helpers import access_token_jwks, assert_error

PATH = "/.well-known/jwks.json"


def signing_alg() -> str:
    """The stack's JWT_ALG where the driver says it (compose-test's EdDSA step), else HS256."""
    return os.environ.get("JWT_ALG") or "HS256"


def test_the_set_is_public_cacheable_and_has_an_access_token_key_only_if_asymmetric(api):
    response = api.get(PATH)
    assert response.status_code == 200
    access_keys = access_token_jwks(response.json())
    if signing_alg() == "HS256":
        assert access_keys == []  # the shared secret is never published
    else:
        assert access_keys and {jwk["alg"] for jwk in access_keys} == {signing_alg()}, access_keys
    for jwk in response.json()["keys"]:  # ID-token keys: public halves only
        assert jwk["alg"] in ("RS256", "EdDSA", "ES256") and jwk["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk)
    assert response.headers["Content-Type"].startswith("application/json")
    cache_control = [part.strip() for part in response.headers["Cache-Control"].split(",")]
    assert "public" in cache_control and any(part.startswith("max-age=") for part in cache_control)
    assert "no-store" not in cache_control
    assert response.headers["ETag"].startswith('"')
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["X-Request-ID"]


def test_a_matching_if_none_match_gets_304_and_another_one_the_set(api):
    first = api.get(PATH)
    etag = first.headers["ETag"]
    unchanged = api.get(PATH, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    for other in ('"not-it"', "garbage without quotes", "W/" + etag + ', "x"' * 50):
        response = api.get(PATH, headers={"If-None-Match": other})
        assert response.status_code in (200, 304), other
        assert response.status_code == 304 or response.json() == first.json()
    head = api.request("HEAD", PATH)
    assert head.status_code == 200 and head.headers["ETag"] == etag


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_get_a_json_405_with_allow(api, method):
    response = api.request(method, PATH, json={})
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_nearby_paths_are_not_the_set(api):
    for path in (PATH + "/", "/.well-known/jwks", "/.well-known/", PATH.upper()):
        assert api.get(path).status_code == 404, path
