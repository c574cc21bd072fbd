"""Passkeys (WebAuthn) through nginx, with a software authenticator (tests/soft_authenticator.py).

Adding, listing and removing them under the recent-login rule; signing in
without a password; a passkey as the second step after a password; and the
refusals: a reused challenge, a wrong origin or RP ID, a counter going back,
another user's or a removed credential, a disabled user, malformed
credential objects (422, nothing stored).
"""

import os
import time
import urllib.parse

import pytest

from tests.cookie_mode import refresh_cookie, same_origin
from tests.helpers import NGINX_RATE_LIMIT_MESSAGE, assert_error, bearer, posts_at_once
from tests.mailbox import wait_for_mail
from tests.soft_authenticator import SoftAuthenticator, b64url
from tests.stack_env import stack_setting

AMR_PASSKEY_UV = ["hwk", "mfa"]
AMR_PASSKEY = ["hwk"]
AMR_PASSWORD_AND_PASSKEY = ["hwk", "mfa", "pwd"]
MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))


@pytest.fixture(scope="session")
def public_url() -> str:
    """Where the browser (here: the software authenticator) sees the stack: the expected origin."""
    return stack_setting("PUBLIC_URL").rstrip("/")


@pytest.fixture(scope="session")
def rp_id(public_url) -> str:
    """The RP ID the stack uses by default: PUBLIC_URL's host."""
    return urllib.parse.urlsplit(public_url).hostname or ""


def _delete(api, path: str, token: str):
    return api.request("DELETE", path, headers=bearer(token))


def add_passkey(api, user: dict, authenticator: SoftAuthenticator, name: str = "laptop") -> dict:
    """Register ``authenticator``'s credential for a logged-in user; the 201 answer."""
    options = api.post("/auth/passkeys/register/options", {}, token=user["access_token"])
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    response = api.post(
        "/auth/passkeys/register", {"credential": credential, "name": name}, token=user["access_token"]
    )
    assert response.status_code == 201, response.text
    return response.json()


def passkey_login(api, authenticator: SoftAuthenticator, stack_rp_id: str, **bend):
    """Sign in with the authenticator alone (``bend``: origin, rp_id, counter for refusals)."""
    options = api.post("/auth/passkeys/login/options", {})
    assert options.status_code == 200, options.text
    credential = authenticator.get(options.json(), bend.pop("rp_id", stack_rp_id), **bend)
    return api.post("/auth/passkeys/login", {"credential": credential})


def _passkeys(api, token: str) -> list[dict]:
    response = api.get("/auth/passkeys", token=token)
    assert response.status_code == 200, response.text
    return response.json()["passkeys"]


def _actions(api, token: str) -> list[str]:
    response = api.get("/auth/events?limit=100", token=token)
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()["events"]]


@pytest.fixture
def authenticator(public_url) -> SoftAuthenticator:
    """A fresh software authenticator that verifies its user."""
    return SoftAuthenticator(public_url)


# --- adding, listing, removing -------------------------------------------------------


def test_register_options_are_the_json_form_browsers_parse(api, logged_in, rp_id):
    response = api.post("/auth/passkeys/register/options", {}, token=logged_in["access_token"])
    assert response.status_code == 200, response.text
    options = response.json()
    assert options["rp"]["id"] == rp_id
    assert options["user"]["name"] == logged_in["username"]
    assert len(options["challenge"]) >= 43 and "=" not in options["challenge"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    again = api.post("/auth/passkeys/register/options", {}, token=logged_in["access_token"]).json()
    # One stable user handle per user; a new challenge each time.
    assert again["user"]["id"] == options["user"]["id"] and again["challenge"] != options["challenge"]


def test_first_passkey_gives_codes_ends_other_sessions_and_turns_two_step_on(api, logged_in, authenticator):
    other = api.login(logged_in["username"], logged_in["password"])
    added = add_passkey(api, logged_in, authenticator)
    assert set(added) == {"id", "name", "created_at", "recovery_codes"}
    assert added["name"] == "laptop" and len(added["recovery_codes"]) == 10
    # The other session got in with the password alone: it is over.
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.me(logged_in["access_token"]).status_code == 200
    listed = _passkeys(api, logged_in["access_token"])
    assert listed == [
        {"id": added["id"], "name": "laptop", "created_at": added["created_at"], "last_used_at": None}
    ]
    status = api.get("/auth/mfa", token=logged_in["access_token"]).json()
    assert status["passkeys"] == 1 and status["recovery_codes_left"] == 10
    step = api.post(
        "/auth/login", {"username": logged_in["username"], "password": logged_in["password"]}
    ).json()
    assert step["mfa_required"] is True and step["methods"] == ["passkey", "recovery_code"]
    # A second passkey: excluded in the options, no new codes.
    options = api.post("/auth/passkeys/register/options", {}, token=logged_in["access_token"]).json()
    assert options["excludeCredentials"][0]["id"] == b64url(authenticator.credential_id)
    second = add_passkey(api, logged_in, SoftAuthenticator(authenticator.origin), name="phone")
    assert "recovery_codes" not in second
    assert [key["name"] for key in _passkeys(api, logged_in["access_token"])] == ["laptop", "phone"]


def test_the_same_credential_twice_is_a_conflict(api, logged_in, authenticator):
    add_passkey(api, logged_in, authenticator)
    options = api.post("/auth/passkeys/register/options", {}, token=logged_in["access_token"]).json()
    response = api.post(
        "/auth/passkeys/register",
        {"credential": authenticator.create(options), "name": "again"},
        token=logged_in["access_token"],
    )
    assert_error(response, 409, "passkey_exists")


def test_remove_own_passkey_but_not_another_users(api, logged_in, authenticator, rp_id):
    added = add_passkey(api, logged_in, authenticator)
    stranger = api.create_user()
    stranger_tokens = api.login(stranger["username"], stranger["password"])
    assert_error(
        _delete(api, f"/auth/passkeys/{added['id']}", stranger_tokens["access_token"]), 404, "not_found"
    )
    assert_error(_delete(api, "/auth/passkeys/not-a-uuid", logged_in["access_token"]), 404, "not_found")
    assert _delete(api, f"/auth/passkeys/{added['id']}", logged_in["access_token"]).status_code == 204
    assert _passkeys(api, logged_in["access_token"]) == []
    assert_error(_delete(api, f"/auth/passkeys/{added['id']}", logged_in["access_token"]), 404, "not_found")
    # The last factor gone: a password signs in alone again, and the removed credential doesn't.
    tokens = api.login(logged_in["username"], logged_in["password"])
    assert "access_token" in tokens
    assert_error(passkey_login(api, authenticator, rp_id), 401, "invalid_credentials")
    actions = _actions(api, tokens["access_token"])
    # The owner was told of both, by mail.
    assert "laptop" in wait_for_mail(logged_in["email"], "A passkey was added")["body"]
    assert "laptop" in wait_for_mail(logged_in["email"], "A passkey was removed")["body"]
    # (The refusal of the removed credential names no account: nobody owns it now.)
    for action in ("passkey_added", "passkey_removed", "mfa_enabled", "mfa_disabled"):
        assert action in actions, (action, actions)


def test_a_personal_access_token_cannot_add_a_passkey(api, logged_in):
    made = api.post("/auth/tokens", {"name": "ci"}, token=logged_in["access_token"])
    assert made.status_code == 201, made.text
    for path in ("/auth/passkeys/register/options", "/auth/passkeys/register"):
        assert_error(api.post(path, {}, token=made.json()["token"]), 401, "invalid_token")


def test_registration_for_another_origin_rp_or_challenge_stores_nothing(api, logged_in, authenticator):
    token = logged_in["access_token"]
    for bend in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"fmt": "packed"}):
        options = api.post("/auth/passkeys/register/options", {}, token=token).json()
        response = api.post(
            "/auth/passkeys/register",
            {"credential": authenticator.create(options, **bend), "name": "x"},
            token=token,
        )
        body = assert_error(response, 422, "validation_failed")
        assert "credential" in body["fields"], bend
    # A challenge handed to someone else.
    stranger = api.create_user()
    stranger_token = api.login(stranger["username"], stranger["password"])["access_token"]
    theirs = api.post("/auth/passkeys/register/options", {}, token=stranger_token).json()
    response = api.post(
        "/auth/passkeys/register", {"credential": authenticator.create(theirs), "name": "x"}, token=token
    )
    assert_error(response, 422, "validation_failed")
    assert _passkeys(api, token) == []


MALFORMED = [
    ("not an object", lambda c: "credential"),
    ("a list", lambda c: [c]),
    ("no id", lambda c: {k: v for k, v in c.items() if k != "id"}),
    ("id a number", lambda c: {**c, "id": 12, "rawId": 12}),
    ("rawId differs", lambda c: {**c, "rawId": b64url(b"other")}),
    ("wrong type", lambda c: {**c, "type": "password"}),
    ("no response", lambda c: {k: v for k, v in c.items() if k != "response"}),
    ("response a string", lambda c: {**c, "response": "x"}),
    (
        "no clientDataJSON",
        lambda c: {**c, "response": {"attestationObject": c["response"]["attestationObject"]}},
    ),
    ("bad base64url", lambda c: {**c, "response": {**c["response"], "attestationObject": "a+b/c=="}}),
    (
        "clientDataJSON not JSON",
        lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"{")}},
    ),
    (
        "attestation not CBOR",
        lambda c: {**c, "response": {**c["response"], "attestationObject": b64url(b"\xff")}},
    ),
    ("huge", lambda c: {**c, "response": {**c["response"], "attestationObject": "A" * 400000}}),
    ("field too long", lambda c: {**c, "response": {**c["response"], "clientDataJSON": "A" * 9000}}),
    ("id huge", lambda c: {**c, "id": "A" * 2000, "rawId": "A" * 2000}),
]


@pytest.mark.parametrize(("case", "bend"), MALFORMED, ids=[case for case, _ in MALFORMED])
def test_malformed_registration_credentials_are_422_and_store_nothing(
    api, logged_in, authenticator, case, bend
):
    token = logged_in["access_token"]
    options = api.post("/auth/passkeys/register/options", {}, token=token).json()
    credential = bend(authenticator.create(options))
    response = api.post("/auth/passkeys/register", {"credential": credential, "name": "x"}, token=token)
    if case == "huge":  # past the body limit: nginx or the app's reader refuse it first
        assert_error(response, 413, "payload_too_large")
    else:
        body = assert_error(response, 422, "validation_failed")
        assert "credential" in body["fields"], case
    assert _passkeys(api, token) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\there", 7])
def test_a_bad_name_is_422(api, logged_in, authenticator, name):
    token = logged_in["access_token"]
    options = api.post("/auth/passkeys/register/options", {}, token=token).json()
    response = api.post(
        "/auth/passkeys/register", {"credential": authenticator.create(options), "name": name}, token=token
    )
    body = assert_error(response, 422, "validation_failed")
    assert "name" in body["fields"]


# --- signing in without a password -------------------------------------------------


def test_sign_in_with_a_passkey_alone(api, logged_in, authenticator, rp_id):
    added = add_passkey(api, logged_in, authenticator)
    options = api.post("/auth/passkeys/login/options", {}).json()
    assert "allowCredentials" not in options or options["allowCredentials"] == []
    assert options["rpId"] == rp_id and options["userVerification"] == "preferred"
    response = passkey_login(api, authenticator, rp_id)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    me = api.me(tokens["access_token"]).json()
    assert me["amr"] == AMR_PASSKEY_UV and me["username"] == logged_in["username"]
    # A refresh keeps how the session was signed in.
    refreshed = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).json()
    assert api.me(refreshed["access_token"]).json()["amr"] == AMR_PASSKEY_UV
    listed = _passkeys(api, tokens["access_token"])
    assert listed[0]["id"] == added["id"] and listed[0]["last_used_at"] is not None
    assert "passkey_login" in _actions(api, tokens["access_token"])


def test_without_user_verification_the_session_has_no_mfa(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    authenticator.user_verified = False
    response = passkey_login(api, authenticator, rp_id)
    assert response.status_code == 200, response.text
    assert api.me(response.json()["access_token"]).json()["amr"] == AMR_PASSKEY


@pytest.mark.parametrize(
    "bend",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}],
    ids=["wrong-origin", "wrong-rp-id"],
)
def test_wrong_origin_or_rp_id_is_refused(api, logged_in, authenticator, rp_id, bend):
    add_passkey(api, logged_in, authenticator)
    assert_error(passkey_login(api, authenticator, rp_id, **bend), 401, "invalid_credentials")
    assert passkey_login(api, authenticator, rp_id).status_code == 200


def test_a_challenge_is_taken_once(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    options = api.post("/auth/passkeys/login/options", {}).json()
    first = api.post("/auth/passkeys/login", {"credential": authenticator.get(options, rp_id)})
    assert first.status_code == 200, first.text
    again = api.post("/auth/passkeys/login", {"credential": authenticator.get(options, rp_id)})
    assert_error(again, 401, "invalid_credentials")


def test_a_counter_going_back_is_refused_and_audited(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    assert passkey_login(api, authenticator, rp_id, counter=5).status_code == 200
    assert_error(passkey_login(api, authenticator, rp_id, counter=3), 401, "invalid_credentials")
    assert_error(passkey_login(api, authenticator, rp_id, counter=5), 401, "invalid_credentials")
    tokens = passkey_login(api, authenticator, rp_id, counter=6)
    assert tokens.status_code == 200, tokens.text
    events = api.get("/auth/events?limit=100", token=tokens.json()["access_token"]).json()["events"]
    reasons = [e["details"].get("reason") for e in events if e["action"] == "passkey_failed"]
    assert reasons.count("counter_went_back") == 2, events


def test_an_unknown_credential_and_a_disabled_user_get_invalid_credentials(
    api, logged_in, authenticator, rp_id, admin_token
):
    assert_error(
        passkey_login(api, SoftAuthenticator(authenticator.origin), rp_id), 401, "invalid_credentials"
    )
    add_passkey(api, logged_in, authenticator)
    disabled = api.post(f"/auth/users/{logged_in['username']}/disable", token=admin_token)
    assert disabled.status_code == 204, disabled.text
    assert_error(passkey_login(api, authenticator, rp_id), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "credential",
    ["x", [], {}, {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "%%"}}],
    ids=["string", "list", "empty", "bad-base64url"],
)
def test_malformed_login_credentials_are_422(api, credential):
    assert_error(api.post("/auth/passkeys/login", {"credential": credential}), 422, "validation_failed")
    assert_error(api.post("/auth/passkeys/login", {}), 422, "validation_failed")


def test_cookie_mode_sets_the_refresh_cookie(api, base_url, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    options = api.post("/auth/passkeys/login/options", {}).json()
    response = api.post(
        "/auth/passkeys/login",
        {"credential": authenticator.get(options, rp_id)},
        headers=same_origin(base_url),
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    cookie = refresh_cookie(response)
    assert cookie is not None and cookie["httponly"]


# --- the second step after a password ------------------------------------------------


def test_a_passkey_as_the_second_step(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    step = api.post(
        "/auth/login", {"username": logged_in["username"], "password": logged_in["password"]}
    ).json()
    assert "passkey" in step["methods"]
    options = api.post("/auth/login/mfa/passkey/options", {"mfa_token": step["mfa_token"]})
    assert options.status_code == 200, options.text
    assert [c["id"] for c in options.json()["allowCredentials"]] == [b64url(authenticator.credential_id)]
    credential = authenticator.get(options.json(), rp_id)
    response = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "credential": credential})
    assert response.status_code == 200, response.text
    assert api.me(response.json()["access_token"]).json()["amr"] == AMR_PASSWORD_AND_PASSKEY
    # The step is spent.
    again = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "credential": credential})
    assert_error(again, 401, "invalid_mfa_token")


def test_another_users_passkey_cannot_finish_a_second_step(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    stranger = api.create_user()
    stranger_tokens = api.login(stranger["username"], stranger["password"])
    stranger_key = SoftAuthenticator(authenticator.origin)
    add_passkey(api, {**stranger, **stranger_tokens}, stranger_key)
    step = api.post(
        "/auth/login", {"username": logged_in["username"], "password": logged_in["password"]}
    ).json()
    options = api.post("/auth/login/mfa/passkey/options", {"mfa_token": step["mfa_token"]}).json()
    response = api.post(
        "/auth/login/mfa", {"mfa_token": step["mfa_token"], "credential": stranger_key.get(options, rp_id)}
    )
    assert_error(response, 401, "invalid_credentials")
    assert_error(
        api.post("/auth/login/mfa/passkey/options", {"mfa_token": "mfa_x"}), 401, "invalid_mfa_token"
    )


# --- limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/auth/passkeys/login", "/auth/passkeys/login/options", "/auth/login/mfa/passkey/options"]
)
def test_nginx_limits_passkey_sign_in_like_a_password_login(base_url, path):
    responses = posts_at_once(base_url, path, [{}] * 40)
    limited = [
        r for r in responses if r.status_code == 429 and r.json()["message"] == NGINX_RATE_LIMIT_MESSAGE
    ]
    assert limited, f"nginx never answered 429 on {path}"
    time.sleep(1.5)  # let the bucket refill for the tests that follow


def test_failed_passkey_sign_ins_close_the_account_like_wrong_passwords(api, logged_in, authenticator, rp_id):
    add_passkey(api, logged_in, authenticator)
    # Wrong origins until the account's throttle (shared with its password logins) closes it.
    for _ in range(MAX_FAILURES + 5):
        refused = passkey_login(api, authenticator, rp_id, origin="https://evil.example")
        if refused.status_code == 429:
            break
        assert_error(refused, 401, "invalid_credentials")
    blocked = assert_error(refused, 429, "too_many_requests")
    assert "Retry-After" in refused.headers and blocked["message"]
    password = api.session.post(
        api.base_url + "/auth/login",
        json={"username": logged_in["username"], "password": logged_in["password"]},
    )
    assert password.status_code == 429, password.text
