"""Second factors leave a trail: audit events the user sees, and notices by mail."""

from tests.helpers import bearer
from tests.mailbox import wait_for_mail
from tests.test_mfa_totp import enable_totp, first_step
from tests.totp_codes import wrong_code


def _actions(api, token: str) -> list[str]:
    response = api.get("/auth/events?limit=100", token=token)
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()["events"]]


def test_enabling_using_a_code_failing_and_turning_off_are_audited_and_mailed(api, logged_in):
    enabled = enable_totp(api, logged_in)
    token = logged_in["access_token"]
    wait_for_mail(logged_in["email"], "Two-factor authentication is on")

    step = first_step(api, logged_in)
    wrong = api.post(
        "/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": wrong_code(enabled["otpauth_uri"])}
    )
    assert wrong.status_code == 401, wrong.text
    used = api.post("/auth/login/mfa", {"mfa_token": step["mfa_token"], "code": enabled["recovery_codes"][0]})
    assert used.status_code == 200, used.text
    notice = wait_for_mail(logged_in["email"], "A recovery code was used")
    assert "9 unused" in notice["body"]

    off = api.request(
        "DELETE",
        "/auth/mfa/totp",
        json={"password": logged_in["password"], "code": enabled["recovery_codes"][1]},
        headers=bearer(token),
    )
    assert off.status_code == 204, off.text
    wait_for_mail(logged_in["email"], "Two-factor authentication is off")
    actions = _actions(api, token)
    for action in (
        "mfa_enabled",
        "mfa_failed",
        "mfa_recovery_code_used",
        "mfa_disabled",
        "authn_login_success",
    ):
        assert action in actions, (action, actions)


def test_an_admin_reset_is_audited_and_mailed(api, logged_in, admin_token):
    enable_totp(api, logged_in)
    response = api.request("DELETE", f"/auth/users/{logged_in['username']}/mfa", headers=bearer(admin_token))
    assert response.status_code == 204, response.text
    wait_for_mail(logged_in["email"], "Your second factors were removed")
    fresh = api.login(logged_in["username"], logged_in["password"])["access_token"]
    assert "mfa_reset_by_admin" in _actions(api, fresh)
