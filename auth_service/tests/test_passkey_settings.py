"""Passkeys' relying party: off on an IP host; an RP ID not PUBLIC_URL's domain stops start-up."""

import dataclasses
import logging

import pytest

from auth_app.app import create_app
from auth_app.factors.passkeys import RelyingParty, read_relying_party
from authcore.settings import SettingsError


def test_the_rp_id_defaults_to_the_public_host_and_the_origin_is_public_urls():
    rp = read_relying_party({}, "https://login.example.com/app")
    assert rp == RelyingParty("login.example.com", "authstack", "https://login.example.com")
    local = read_relying_party({"WEBAUTHN_RP_NAME": "Acme"}, "http://localhost:8080")
    assert local == RelyingParty("localhost", "Acme", "http://localhost:8080")


@pytest.mark.parametrize("rp_id", ["example.com", "login.example.com", "Example.COM."])
def test_an_explicit_rp_id_may_be_the_host_or_a_parent_domain(rp_id):
    rp = read_relying_party({"WEBAUTHN_RP_ID": rp_id}, "https://login.example.com")
    assert rp is not None and rp.rp_id == rp_id.lower().rstrip(".")


@pytest.mark.parametrize("rp_id", ["other.com", "ample.com", "sub.login.example.com", "xlogin.example.com"])
def test_any_other_rp_id_stops_start_up_naming_both(rp_id):
    with pytest.raises(SettingsError) as refused:
        read_relying_party({"WEBAUTHN_RP_ID": rp_id}, "https://login.example.com")
    assert rp_id in str(refused.value) and "login.example.com" in str(refused.value)


@pytest.mark.parametrize("public_url", ["http://127.0.0.1:8080", "http://[::1]:8080"])
def test_an_ip_address_host_turns_passkeys_off_with_one_log_line(public_url, caplog):
    with caplog.at_level(logging.WARNING):
        assert read_relying_party({}, public_url) is None
    assert len(caplog.records) == 1 and "passkeys are off" in caplog.records[0].getMessage()


def test_with_passkeys_off_their_routes_answer_503_and_the_rest_works(settings):
    app = create_app(dataclasses.replace(settings, webauthn=None), pool_size=2, background=False)
    try:
        client = app.test_client()
        for path in ("/auth/passkeys/login/options", "/auth/passkeys/login"):
            answer = client.post(path, json={"credential": {}})
            assert answer.status_code == 503 and answer.get_json()["error"] == "passkeys_unavailable", path
        assert client.get("/auth/healthz").status_code == 200
    finally:
        app.extensions["pool"].close()
