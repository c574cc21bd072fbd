"""TOTP with recovery codes, through nginx: enrolment, the second login step, amr, an admin's reset.

Codes come from Debian's oathtool (tests/totp_codes.py), an implementation
independent of the pyotp the stack uses, fed the secret from the
``otpauth_uri`` as an authenticator app would be.
"""

import pytest

from tests.helpers import assert_error, bearer
from tests.totp_codes import oathtool_code, wrong_code

AMR_OTP = ["mfa", "otp", "pwd"]


def _delete(api, path: str, token: str, body=None):
    return api.request("DELETE", path, json=body, headers=bearer(token))


def enable_totp(api, user: dict) -> dict:
    """Turn TOTP on for a logged-in user; the setup answer and the recovery codes."""
    setup = api.post("/auth/mfa/totp", {"password": user["password"]}, token=user["access_token"])
    assert setup.status_code == 200, setup.text
    confirm = api.post(
        "/auth/mfa/totp/confirm",
        {"code": oathtool_code(setup.json()["otpauth_uri"])},
        token=user["access_token"],
    )
    assert confirm.status_code == 200, confirm.text
    return {**setup.json(), "recovery_codes": confirm.json()["recovery_codes"]}


def first_step(api, user: dict) -> dict:
    """The password step of a user with a second factor: the mfa_required answer."""
    response = api.post("/auth/login", {"username": user["username"], "password": user["password"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True, body
    return body


@pytest.fixture
def mfa_user(api, logged_in):
    """A logged-in user with TOTP on: its fields, tokens, secret URI and recovery codes."""
    return {**logged_in, **enable_totp(api, logged_in)}


def test_setup_answers_the_secret_the_uri_and_an_svg_qr_code(api, logged_in):
    response = api.post(
        "/auth/mfa/totp", {"password": logged_in["password"]}, token=logged_in["access_token"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].lstrip().startswith("<svg") and "</svg>" in body["qr_svg"]
    # Asked again: a new pending secret replaces the first, which no longer confirms.
    again = api.post("/auth/mfa/totp", {"password": logged_in["password"]}, token=logged_in["access_token"])
    assert again.json()["secret"] != body["secret"]
    stale = api.post(
        "/auth/mfa/totp/confirm",
        {"code": oathtool_code(body["otpauth_uri"])},
        token=logged_in["access_token"],
    )
    assert_error(stale, 422, "validation_failed")
    status = api.get("/auth/mfa", token=logged_in["access_token"]).json()
    assert status == {"totp": False, "recovery_codes_left": 0, "passkeys": 0}


def test_setup_refuses_a_wrong_password(api, logged_in):
    response = api.post("/auth/mfa/totp", {"password": "not-the-password"}, token=logged_in["access_token"])
    body = assert_error(response, 422, "validation_failed")
    assert "password" in body["fields"]


def test_confirming_turns_totp_on_and_ends_the_other_sessions(api, logged_in):
    other = api.login(logged_in["username"], logged_in["password"])
    enabled = enable_totp(api, logged_in)
    codes = enabled["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert api.me(other["access_token"]).status_code == 401
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status_code == 401
    # The session that turned it on goes on.
    assert api.me(logged_in["access_token"]).status_code == 200
    status = api.get("/auth/mfa", token=logged_in["access_token"]).json()
    assert status == {"totp": True, "recovery_codes_left": 10, "passkeys": 0}


def test_login_needs_the_second_step_and_then_carries_amr(api, mfa_user):
    step = first_step(api, mfa_user)
    assert "access_token" not in step and "refresh_token" not in step
    assert step["methods"] == ["totp", "recovery_code"]
    assert step["expires_in"] == 300
    # The confirm took this step's code: the next step's is the one to use now.
    code = oathtool_code(mfa_user["otpauth_uri"], steps_ahead=1)
    response = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": code})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    me = api.me(tokens["access_token"]).json()
    assert me["amr"] == AMR_OTP
    # A refresh keeps how the session signed in.
    refreshed = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).json()
    assert api.me(refreshed["access_token"]).json()["amr"] == AMR_OTP
    # The token is single use, and the code too (a replay in a new step is refused).
    assert_error(
        api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": code}), 401, "invalid_mfa_token"
    )
    replay = first_step(api, mfa_user)
    assert_error(
        api.post("/auth/login/mfa", {"mfa_token": replay["mfa_token"], "code": code}), 401, "invalid_mfa_code"
    )


def test_a_password_login_without_a_factor_says_pwd(api, logged_in):
    assert api.me(logged_in["access_token"]).json()["amr"] == ["pwd"]


def test_a_recovery_code_signs_in_once(api, mfa_user):
    code = mfa_user["recovery_codes"][0]
    step = first_step(api, mfa_user)
    response = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": code.upper()})
    assert response.status_code == 200, response.text
    assert api.me(response.json()["access_token"]).json()["amr"] == AMR_OTP
    again = first_step(api, mfa_user)
    assert_error(
        api.post("/auth/login/mfa", {"mfa_token": again["mfa_token"], "code": code}), 401, "invalid_mfa_code"
    )
    status = api.get("/auth/mfa", token=response.json()["access_token"]).json()
    assert status["recovery_codes_left"] == 9


def test_five_wrong_codes_kill_the_mfa_token(api, mfa_user):
    step, uri = first_step(api, mfa_user), mfa_user["otpauth_uri"]
    for _ in range(5):
        wrong = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": wrong_code(uri)})
        assert wrong.status_code in (401, 429), wrong.text
        if wrong.status_code == 401:
            assert wrong.json()["error"] == "invalid_mfa_code"
    right = oathtool_code(mfa_user["otpauth_uri"], steps_ahead=1)
    response = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": right})
    assert_error(response, 401, "invalid_mfa_token")


def test_disabling_needs_password_and_code_and_voids_the_recovery_codes(api, mfa_user):
    token = mfa_user["access_token"]
    codes = mfa_user["recovery_codes"]
    wrong_password = _delete(api, "/auth/mfa/totp", token, {"password": "nope-nope-nope", "code": codes[0]})
    assert_error(wrong_password, 422, "validation_failed")
    response = _delete(api, "/auth/mfa/totp", token, {"password": mfa_user["password"], "code": codes[0]})
    assert response.status_code == 204, response.text
    assert api.get("/auth/mfa", token=token).json() == {
        "totp": False,
        "recovery_codes_left": 0,
        "passkeys": 0,
    }
    # A password alone signs in again.
    tokens = api.login(mfa_user["username"], mfa_user["password"])
    assert api.me(tokens["access_token"]).json()["amr"] == ["pwd"]
    off = _delete(api, "/auth/mfa/totp", token, {"password": mfa_user["password"], "code": codes[1]})
    assert_error(off, 409, "totp_not_enabled")


def test_new_recovery_codes_void_the_old_ones(api, mfa_user):
    token, old = mfa_user["access_token"], mfa_user["recovery_codes"]
    response = api.post("/auth/mfa/recovery-codes", {"code": old[0]}, token=token)
    assert response.status_code == 200, response.text
    new = response.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    step = first_step(api, mfa_user)
    assert_error(
        api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": old[1]}), 401, "invalid_mfa_code"
    )
    ok = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": new[0]})
    assert ok.status_code == 200, ok.text


def test_admin_reset_removes_the_factors_and_ends_the_sessions(api, mfa_user, admin_token):
    path = f"/auth/users/{mfa_user['username']}/mfa"
    assert_error(_delete(api, path, mfa_user["access_token"]), 403, "forbidden")
    pending = first_step(api, mfa_user)
    response = _delete(api, path, admin_token)
    assert response.status_code == 204, response.text
    assert api.me(mfa_user["access_token"]).status_code == 401
    code = oathtool_code(mfa_user["otpauth_uri"], steps_ahead=1)
    late = api.post("/auth/login/mfa", {"mfa_token": pending["mfa_token"], "code": code})
    assert_error(late, 401, "invalid_mfa_token")
    tokens = api.login(mfa_user["username"], mfa_user["password"])
    assert "access_token" in tokens
    assert_error(_delete(api, "/auth/users/no-such-user-here/mfa", admin_token), 404, "not_found")


def test_cookie_mode_second_step_sets_the_refresh_cookie(api, base_url, mfa_user):
    step = first_step(api, mfa_user)
    headers = {"X-Auth-Mode": "cookie", "Origin": base_url, "Sec-Fetch-Site": "same-origin"}
    code = oathtool_code(mfa_user["otpauth_uri"], steps_ahead=1)
    response = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": code}, headers=headers)
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    assert "authstack_refresh" in response.headers.get("Set-Cookie", "")


BAD_CODES = [
    ("12345", 422, "validation_failed"),
    ("1234567", 422, "validation_failed"),
    ("abcdef", 422, "validation_failed"),
    (
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        422,
        "validation_failed",
    ),  # fullwidth digits are not digits here
    ("9" * 10_000, 422, "validation_failed"),
    (123456, 422, "validation_failed"),
    (None, 422, "validation_failed"),
    ("", 422, "validation_failed"),
]


@pytest.mark.parametrize(("code", "status", "error"), BAD_CODES)
def test_second_step_bad_codes(api, mfa_user, code, status, error):
    step = first_step(api, mfa_user)
    body = {"mfa_token": step["mfa_token"]} | ({} if code is None else {"code": code})
    assert_error(api.post("/auth/login/mfa", body), status, error)
    # Nothing was used up: the step still works.
    right = oathtool_code(mfa_user["otpauth_uri"], steps_ahead=1)
    assert api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": right}).status_code == 200


@pytest.mark.parametrize(
    "mfa_token", ["", "mfa_", "mfa_" + "A" * 43, "x" * 5000, "rt_" + "A" * 43, 42, ["mfa_"]]
)
def test_second_step_refuses_tokens_that_are_not_live(api, mfa_token):
    response = api.post("/auth/login/mfa", {"mfa_token": mfa_token, "code": "123456"})
    if isinstance(mfa_token, str) and mfa_token:
        assert_error(response, 401, "invalid_mfa_token")
    else:
        assert_error(response, 422, "validation_failed")


def test_enrolment_bad_states(api, logged_in):
    token = logged_in["access_token"]
    assert_error(api.post("/auth/mfa/totp/confirm", {"code": "123456"}, token=token), 409, "totp_not_pending")
    assert_error(
        api.post("/auth/mfa/recovery-codes", {"code": "123456"}, token=token), 409, "totp_not_enabled"
    )
    off = _delete(api, "/auth/mfa/totp", token, {"password": logged_in["password"], "code": "123456"})
    assert_error(off, 409, "totp_not_enabled")
    assert_error(
        api.post("/auth/mfa/totp/confirm", {"code": "12345x"}, token=token), 422, "validation_failed"
    )
    enable_totp(api, logged_in)
    again = api.post("/auth/mfa/totp", {"password": logged_in["password"]}, token=token)
    assert_error(again, 409, "totp_already_enabled")


def test_mfa_routes_need_a_token(api):
    assert_error(api.get("/auth/mfa"), 401, "missing_token")
    assert_error(api.post("/auth/mfa/totp", {"password": "x"}), 401, "missing_token")


def test_wrong_codes_count_on_the_accounts_login_throttle(api, mfa_user):
    """Wrong codes close the account like wrong passwords do: 429 with Retry-After, on either step.

    Each failure past LOGIN_MAX_FAILURES doubles the pause, so the loop
    meets a 429 whatever the machine's speed.
    """
    uri = mfa_user["otpauth_uri"]
    credentials = {"username": mfa_user["username"], "password": mfa_user["password"]}
    for _ in range(30):
        login = api.post("/auth/login", credentials)
        if login.status_code == 429:
            break
        wrong = api.post("/auth/login/mfa", {"mfa_token": login.json()["mfa_token"], "code": wrong_code(uri)})
        if wrong.status_code == 429:
            login = wrong
            break
        assert_error(wrong, 401, "invalid_mfa_code")
    else:
        pytest.fail("30 wrong codes never closed the account (429)")
    body = assert_error(login, 429, "too_many_requests")
    assert "account" in body["message"]
    assert int(login.headers["Retry-After"]) >= 1
