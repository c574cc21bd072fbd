"""OIDC_SIGNING_KEYS_FILE: what the provider accepts as its ID-token keys, and what it refuses."""

import json

import pytest

from auth_app.oidc.signing_keys import generate_key, generate_key_set, load_signing_keys
from authcore.settings import SettingsError


def _write(tmp_path, document) -> str:
    path = tmp_path / "oidc.jwks.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_a_generated_set_has_one_key_of_each_algorithm_rs256_first(tmp_path):
    keys = load_signing_keys(_write(tmp_path, generate_key_set()))
    assert keys.algorithms == ("RS256", "EdDSA", "ES256")
    published = keys.public_jwks()
    assert [jwk["alg"] for jwk in published] == ["RS256", "EdDSA", "ES256"]
    assert all(jwk["kid"].startswith("id-") and "d" not in jwk for jwk in published)
    assert keys.signing_key("ES256").kid == published[2]["kid"]


def test_the_first_key_of_an_algorithm_signs(tmp_path):
    document = generate_key_set()
    document["keys"].append(generate_key("RS256").as_dict(private=True))
    keys = load_signing_keys(_write(tmp_path, document))
    assert keys.signing_key("RS256").kid == document["keys"][0]["kid"]
    assert len(keys.public_jwks()) == 4


def _public_only() -> dict:
    document = generate_key_set()
    return {
        "keys": [
            {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
            for jwk in document["keys"]
        ]
    }


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("not json", "JWK Set"),
        ({"nokeys": []}, "JWK Set"),
        ({"keys": [generate_key("EdDSA").as_dict(private=True)]}, "RS256"),
        (_public_only(), "private"),
        ({"keys": [{**generate_key("RS256").as_dict(private=True), "alg": "PS256"}]}, "alg"),
        ({"keys": [{**generate_key("RS256").as_dict(private=True), "kid": "bad kid!"}]}, "kid"),
        ({"keys": [{**generate_key("RS256").as_dict(private=True), "use": "enc"}]}, "use"),
        ({"keys": [{**generate_key("ES256").as_dict(private=True), "alg": "EdDSA"}]}, "key"),
    ],
)
def test_a_bad_file_names_the_setting_never_a_key(tmp_path, document, words):
    with pytest.raises(SettingsError) as refused:
        load_signing_keys(_write(tmp_path, document))
    message = str(refused.value)
    assert "OIDC_SIGNING_KEYS_FILE" in message and words in message
    assert '"d"' not in message


def test_two_keys_with_one_kid_and_a_missing_file_are_refused(tmp_path):
    key = generate_key("RS256").as_dict(private=True)
    with pytest.raises(SettingsError, match="one kid"):
        load_signing_keys(_write(tmp_path, {"keys": [key, key]}))
    with pytest.raises(SettingsError, match="can't be read"):
        load_signing_keys(str(tmp_path / "missing.json"))
