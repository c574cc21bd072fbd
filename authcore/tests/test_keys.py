"""Unit tests of the asymmetric key sets (authcore/keys.py) and how the settings read them."""

import json
import os

import pytest

from authcore import keys as key_sets
from authcore.settings import SettingsError, read_token_settings


def write(path, document) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def private_set(*algorithms_and_kids) -> dict:
    return key_sets.private_key_set(
        tuple(key_sets.generate_key(alg, kid) for alg, kid in algorithms_and_kids)
    )


def env_for(path: str, alg: str = "EdDSA", setting: str = "JWT_PRIVATE_KEYS_FILE") -> dict:
    return {"JWT_ALG": alg, setting: path}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_a_private_set_loads_and_its_public_half_has_the_rfc_7517_members(tmp_path, alg):
    path = write(tmp_path / "private.json", private_set((alg, "new"), (alg, "old")))
    tokens = read_token_settings(env_for(path, alg), signer=True)
    assert tokens.asymmetric and tokens.algorithm == alg and tokens.keys == ()
    assert [key.kid for key in tokens.asymmetric_keys] == ["new", "old"]
    assert all(key.private_key is not None for key in tokens.asymmetric_keys)
    published = key_sets.public_key_set(tokens.asymmetric_keys)["keys"]
    expected = {"kty", "crv", "x", "kid", "use", "alg"} | ({"y"} if alg == "ES256" else set())
    assert all(set(jwk) == expected for jwk in published)
    assert all(jwk["use"] == "sig" and jwk["alg"] == alg for jwk in published)
    assert all("d" not in jwk for jwk in published)


def test_a_verifier_reads_public_keys_and_never_the_secret(tmp_path):
    keys = key_sets.public_key_set((key_sets.generate_key("EdDSA", "k"),))
    path = write(tmp_path / "public.json", keys)
    env = {**env_for(path, setting="JWT_PUBLIC_KEYS_FILE"), "JWT_SECRET": "x"}  # a weak secret: not even read
    tokens = read_token_settings(env)
    assert [key.private_key for key in tokens.asymmetric_keys] == [None]


def test_hs256_is_the_default_and_reads_no_key_file():
    tokens = read_token_settings({"JWT_SECRET": "q" + os.urandom(32).hex(), "JWT_PRIVATE_KEYS_FILE": "/nope"})
    assert tokens.algorithm == "HS256" and not tokens.asymmetric and tokens.asymmetric_keys == ()


def _problem(env: dict, signer: bool = True) -> str:
    with pytest.raises(SettingsError) as caught:
        read_token_settings(env, signer=signer)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_private_key_files_stop_the_service_with_one_line_naming_the_setting(tmp_path):
    ed_pair = private_set(("EdDSA", "a"))
    d_value = ed_pair["keys"][0]["d"]
    cases = {
        "missing": str(tmp_path / "absent.json"),
        "unreadable": str(tmp_path),  # a folder can't be read as a file
        "not json": write(tmp_path / "text.json", "not json"),
        "not a set": write(tmp_path / "list.json", [1, 2]),
        "empty set": write(tmp_path / "empty.json", {"keys": []}),
        "wrong type": write(tmp_path / "es.json", private_set(("ES256", "a"))),
        "two kids": write(
            tmp_path / "dup.json", {"keys": private_set(("EdDSA", "a"), ("EdDSA", "a"))["keys"]}
        ),
        "no kid": write(
            tmp_path / "nokid.json", {"keys": [{k: v for k, v in ed_pair["keys"][0].items() if k != "kid"}]}
        ),
        "public only": write(
            tmp_path / "pub.json",
            key_sets.public_key_set(
                key_sets.load_key_set("X", write(tmp_path / "p.json", ed_pair), "EdDSA", True)
            ),
        ),
        "oct key": write(tmp_path / "oct.json", {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}),
        "alg mismatch": write(tmp_path / "alg.json", {"keys": [{**ed_pair["keys"][0], "alg": "ES256"}]}),
        "broken key": write(tmp_path / "broken.json", {"keys": [{**ed_pair["keys"][0], "d": "AAAA"}]}),
    }
    for case, path in cases.items():
        message = _problem(env_for(path))
        assert "JWT_PRIVATE_KEYS_FILE" in message, case
        assert d_value not in message, case
    assert "required" in _problem({"JWT_ALG": "EdDSA"})
    assert "JWT_ALG" in _problem({"JWT_ALG": "none"})
    assert "JWT_ALG" in _problem({"JWT_ALG": "RS256"})


def test_a_public_key_file_holding_a_private_key_is_refused(tmp_path):
    path = write(tmp_path / "private.json", private_set(("EdDSA", "a")))
    assert "public keys only" in _problem(env_for(path, setting="JWT_PUBLIC_KEYS_FILE"), signer=False)


def test_the_command_line_generates_publishes_and_rotates(tmp_path, capsys):
    assert key_sets.main(["generate", "EdDSA", "--kid", "first"]) == 0
    path = tmp_path / "private.json"
    path.write_text(capsys.readouterr().out)
    assert key_sets.main(["add", "EdDSA", str(path), "--kid", "second"]) == 0
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [key.kid for key in key_sets.load_key_set("F", str(path), "EdDSA", True)] == ["first", "second"]
    assert key_sets.main(["promote", "second", str(path)]) == 0
    assert key_sets.main(["remove", "first", str(path)]) == 0
    assert [key.kid for key in key_sets.load_key_set("F", str(path), "EdDSA", True)] == ["second"]
    capsys.readouterr()
    assert key_sets.main(["public", str(path)]) == 0
    published = json.loads(capsys.readouterr().out)
    assert [jwk["kid"] for jwk in published["keys"]] == ["second"] and "d" not in published["keys"][0]
    assert key_sets.main(["remove", "second", str(path)]) == 2  # never the last key
    assert key_sets.main(["add", "ES256", str(path)]) == 2  # one algorithm per set
