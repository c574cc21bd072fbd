"""Single sign-on, first part: client registration by an admin, discovery, the ID-token keys."""

import pytest

from tests.helpers import access_token_jwks, assert_error, bearer

CLIENTS = "/auth/oauth2/clients"


def test_discovery_names_the_issuer_every_endpoint_and_s256_only(api, discovery, public_url):
    assert discovery["issuer"] == public_url
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert discovery[name].startswith(public_url + "/"), name
    assert discovery["jwks_uri"] == public_url + "/.well-known/jwks.json"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert discovery["response_types_supported"] == ["code"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    response = api.get("/.well-known/openid-configuration")
    assert "public" in response.headers["Cache-Control"]
    assert response.headers["Content-Type"].startswith("application/json")


def test_the_id_token_keys_are_published_beside_the_access_token_keys(api, discovery):
    document = api.get("/.well-known/jwks.json").json()
    id_keys = [jwk for jwk in document["keys"] if jwk not in access_token_jwks(document)]
    assert sorted(jwk["alg"] for jwk in id_keys) == sorted(discovery["id_token_signing_alg_values_supported"])
    for jwk in id_keys:
        assert jwk["use"] == "sig" and jwk["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


def test_an_admin_registers_lists_and_deletes_a_confidential_client(api, admin_token, register_client):
    client = register_client(first_party=True, post_logout_redirect_uris=["https://app.example/bye"])
    assert client["type"] == "confidential" and client["first_party"] is True
    assert len(client["client_secret"]) >= 43 and client["client_id"]
    assert client["id_token_signed_response_alg"] == "RS256"
    listed = api.get(CLIENTS, token=admin_token).json()["clients"]
    (mine,) = [entry for entry in listed if entry["client_id"] == client["client_id"]]
    assert "client_secret" not in mine and mine["redirect_uris"] == client["redirect_uris"]
    assert mine["post_logout_redirect_uris"] == ["https://app.example/bye"]
    assert (
        api.request("DELETE", f"{CLIENTS}/{client['client_id']}", headers=bearer(admin_token)).status_code
        == 204
    )
    gone = api.request("DELETE", f"{CLIENTS}/{client['client_id']}", headers=bearer(admin_token))
    assert_error(gone, 404, "not_found")
    assert api.request("DELETE", f"{CLIENTS}/a%00b", headers=bearer(admin_token)).status_code in (400, 404)
    assert client["client_id"] not in [
        c["client_id"] for c in api.get(CLIENTS, token=admin_token).json()["clients"]
    ]


def test_a_public_client_has_no_secret_and_may_ask_for_eddsa(register_client):
    client = register_client(type="public", id_token_signed_response_alg="EdDSA")
    assert "client_secret" not in client and client["type"] == "public"
    assert client["id_token_signed_response_alg"] == "EdDSA"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"type": "secret"}, "type"),
        ({"first_party": "yes"}, "first_party"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"redirect_uris": "https://app.example/cb"}, "redirect_uris"),
        ({"redirect_uris": ["/relative"]}, "redirect_uris"),
        ({"redirect_uris": ["http://app.example/cb"]}, "redirect_uris"),
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "redirect_uris"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris"),
        ({"redirect_uris": ["https://app.example/a b"]}, "redirect_uris"),
        ({"redirect_uris": ["https://app.example:99999/cb"]}, "redirect_uris"),
        ({"redirect_uris": [f"https://app.example/{i}" for i in range(11)]}, "redirect_uris"),
        ({"post_logout_redirect_uris": ["ftp://app.example/"]}, "post_logout_redirect_uris"),
        ({"id_token_signed_response_alg": "none"}, "id_token_signed_response_alg"),
        ({"id_token_signed_response_alg": "HS256"}, "id_token_signed_response_alg"),
    ],
)
def test_bad_registrations_are_422_naming_the_field(api, admin_token, discovery, change, field):
    body = {"name": "app", "type": "confidential", "redirect_uris": ["https://app.example/cb"], **change}
    response = api.post(CLIENTS, json=body, token=admin_token)
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {field}


def test_only_admins_manage_clients(api, logged_in, discovery):
    assert_error(api.get(CLIENTS), 401, "missing_token")
    assert_error(api.get(CLIENTS, token=logged_in["access_token"]), 403, "forbidden")
    body = {"name": "app", "type": "public", "redirect_uris": ["https://app.example/cb"]}
    assert_error(api.post(CLIENTS, json=body, token=logged_in["access_token"]), 403, "forbidden")
    deleted = api.request("DELETE", f"{CLIENTS}/whatever", headers=bearer(logged_in["access_token"]))
    assert_error(deleted, 403, "forbidden")
