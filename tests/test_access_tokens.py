"""Personal access tokens through nginx: creation, use, next-request revocation, bad input."""

import base64
import secrets
import zlib

import pytest

from tests.helpers import GATEWAY_PATH, assert_error, bearer, gateway_login, gateway_role
from tests.mailbox import RESET_SUBJECT, VERIFY_SUBJECT, token_in, wait_for_mail

TOKENS = "/auth/tokens"


def create(api, access_token: str, **fields) -> dict:
    """Create a token; the 201 body."""
    response = api.post(TOKENS, {"name": "ci", **fields}, token=access_token)
    assert response.status_code == 201, response.text
    return response.json()


def admin_put_role(api, admin_token: str, username: str, role: str, grant: bool = True) -> None:
    method = "PUT" if grant else "DELETE"
    response = api.request(method, f"/auth/users/{username}/roles/{role}", headers=bearer(admin_token))
    assert response.status_code == 204, response.text


def assert_invalid_token(response) -> None:
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), response.headers


def test_a_token_is_created_once_listed_without_its_secret_and_used_at_the_api(api, logged_in):
    created = create(api, logged_in["access_token"], name="  deploy bot  ", expires_in_days=7)
    token = created["token"]
    assert token.startswith("pat_") and len(token) == 53
    assert created["name"] == "deploy bot" and created["roles"] == []
    assert set(created) == {"id", "name", "token", "roles", "created_at", "expires_at"}
    listed = api.get(TOKENS, token=logged_in["access_token"]).json()["tokens"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert listed[0]["last_used_at"] is None
    assert token not in str(listed)

    me = api.me(token)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["id"] == logged_in["id"] and body["username"] == logged_in["username"]
    assert body["session_id"] is None and body["amr"] == [] and body["roles"] == []
    hello = api.get("/api/v1/example/hello", token=token)
    assert hello.status_code == 200 and hello.json()["user_id"] == logged_in["id"]
    # It reaches the resource side only: an admin-only route wants the role.
    assert_error(api.get("/api/v1/admin", token=token), 403, "forbidden")


def test_roles_default_to_the_callers_and_may_be_narrowed_but_never_widened(api, admin_token, new_user):
    admin_put_role(api, admin_token, new_user["username"], "auditor")
    access = api.login(new_user["username"], new_user["password"])["access_token"]
    everything = create(api, access)
    assert everything["roles"] == ["auditor"]
    assert api.get("/api/v1/example/reports/2026", token=everything["token"]).status_code == 200
    nothing = create(api, access, roles=[])
    assert_error(api.get("/api/v1/example/reports/2026", token=nothing["token"]), 403, "forbidden")
    wider = api.post(TOKENS, {"name": "x", "roles": ["admin"]}, token=access)
    assert "roles" in assert_error(wider, 422, "validation_failed")["fields"]


def test_a_personal_access_token_cannot_manage_credentials(api, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    for method, path, body in (
        ("POST", TOKENS, {"name": "child"}),
        ("GET", TOKENS, None),
        ("DELETE", f"{TOKENS}/00000000-0000-0000-0000-000000000000", None),
        ("GET", "/auth/sessions", None),
        ("POST", "/auth/logout-all", None),
        ("POST", "/auth/password", {"current_password": logged_in["password"], "new_password": "x" * 12}),
    ):
        response = api.request(method, path, json=body, headers=bearer(token))
        assert response.status_code in (401, 403), (method, path, response.status_code)
    assert_invalid_token(api.post("/auth/refresh", {"refresh_token": token}))
    assert api.me(logged_in["access_token"]).status_code == 200


def test_revoking_a_token_refuses_it_on_the_next_request(api, logged_in):
    access = logged_in["access_token"]
    kept, revoked = create(api, access, name="kept"), create(api, access, name="gone")
    assert api.me(revoked["token"]).status_code == 200
    response = api.request("DELETE", f"{TOKENS}/{revoked['id']}", headers=bearer(access))
    assert response.status_code == 204, response.text
    assert_invalid_token(api.me(revoked["token"]))
    assert api.me(kept["token"]).status_code == 200
    again = api.request("DELETE", f"{TOKENS}/{revoked['id']}", headers=bearer(access))
    assert_error(again, 404, "not_found")
    assert [item["id"] for item in api.get(TOKENS, token=access).json()["tokens"]] == [kept["id"]]


def test_another_users_token_is_not_found(api, logged_in):
    stranger = api.create_user()
    theirs = create(api, api.login(stranger["username"], stranger["password"])["access_token"])
    for token_id in (theirs["id"], "not-a-uuid", "1"):
        response = api.request("DELETE", f"{TOKENS}/{token_id}", headers=bearer(logged_in["access_token"]))
        assert_error(response, 404, "not_found")
    assert api.me(theirs["token"]).status_code == 200


def test_a_role_removal_takes_effect_on_the_next_request_and_a_grant_restores_it(api, admin_token, new_user):
    admin_put_role(api, admin_token, new_user["username"], "auditor")
    access = api.login(new_user["username"], new_user["password"])["access_token"]
    token = create(api, access)["token"]
    reports = "/api/v1/example/reports/2026"
    assert api.get(reports, token=token).status_code == 200
    admin_put_role(api, admin_token, new_user["username"], "auditor", grant=False)
    assert_error(api.get(reports, token=token), 403, "forbidden")
    assert api.me(token).json()["roles"] == []
    admin_put_role(api, admin_token, new_user["username"], "auditor")
    assert api.get(reports, token=token).status_code == 200


def test_disabling_the_user_ends_their_tokens(api, admin_token, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    response = api.post(f"/auth/users/{logged_in['username']}/disable", token=admin_token)
    assert response.status_code == 204, response.text
    assert_invalid_token(api.me(token))


def test_a_password_change_and_logout_all_leave_tokens_alone(api, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    new = "new-" + secrets.token_hex(8)
    change = {"current_password": logged_in["password"], "new_password": new}
    assert api.post("/auth/password", change, token=logged_in["access_token"]).status_code == 204
    assert api.post("/auth/logout-all", token=logged_in["access_token"]).status_code == 204
    assert api.me(token).status_code == 200


def test_admins_list_and_revoke_a_users_tokens(api, admin_token, logged_in):
    created = create(api, logged_in["access_token"])
    path = f"/auth/users/{logged_in['username']}/tokens"
    listed = api.get(path, token=admin_token)
    assert listed.status_code == 200 and [t["id"] for t in listed.json()["tokens"]] == [created["id"]]
    assert_error(api.get(path, token=logged_in["access_token"]), 403, "forbidden")
    assert_error(
        api.get("/auth/users/nobody-" + secrets.token_hex(4) + "/tokens", token=admin_token), 404, "not_found"
    )
    response = api.request("DELETE", f"{path}/{created['id']}", headers=bearer(admin_token))
    assert response.status_code == 204, response.text
    assert_invalid_token(api.me(created["token"]))
    again = api.request("DELETE", f"{path}/{created['id']}", headers=bearer(admin_token))
    assert_error(again, 404, "not_found")


def test_the_gateway_takes_a_token_without_session_or_amr_headers(api, admin_token):
    member = gateway_login(api, admin_token)
    token = create(api, member["access_token"])["token"]
    response = api.get(GATEWAY_PATH, token=token)
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert headers["x-auth-user-id"] == member["id"]
    assert headers.get("x-auth-roles", "") == ",".join(filter(None, [gateway_role()]))
    assert "x-auth-session-id" not in headers and "x-auth-amr" not in headers
    assert "authorization" not in headers
    assert_invalid_token(api.get(GATEWAY_PATH, token=token[:-1] + ("A" if token[-1] != "A" else "B")))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def well_formed_token() -> str:
    """A token of the documented format (256 random bits, CRC-32 checksum) that was never issued."""
    body = _b64(secrets.token_bytes(32))
    return "pat_" + body + _b64(zlib.crc32(body.encode()).to_bytes(4, "big"))


def _tokens_refused():
    good = well_formed_token()
    body = good[4:47]
    return [
        "pat_",
        "pat_" + body,  # no checksum
        "pat_" + body + ("AAAAAA" if good[47:] != "AAAAAA" else "BBBBBB"),  # a wrong checksum
        good[:46] + "!" + good[47:],
        "PAT_" + good[4:],
        good + "A",
        "pat_" + "A" * 200,
    ]


@pytest.mark.parametrize("token", _tokens_refused())
def test_malformed_and_forged_tokens_are_401(api, token):
    assert_invalid_token(api.me(token))


def test_an_unknown_well_formed_token_is_401(api, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    assert_invalid_token(api.me(well_formed_token()))
    assert api.me(token).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "expires_in_days": "30"}, "expires_in_days"),
        ({"name": "x", "expires_in_days": True}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 1.5}, "expires_in_days"),
        ({"name": "x", "roles": "admin"}, "roles"),
        ({"name": "x", "roles": [1]}, "roles"),
        ({"name": "x", "roles": ["ghost"]}, "roles"),
    ],
)
def test_bad_creation_requests_are_422_and_create_nothing(api, logged_in, body, field):
    response = api.post(TOKENS, body, token=logged_in["access_token"])
    assert field in assert_error(response, 422, "validation_failed")["fields"]
    assert api.get(TOKENS, token=logged_in["access_token"]).json()["tokens"] == []


def test_at_most_fifty_live_tokens(api, logged_in):
    access = logged_in["access_token"]
    for number in range(50):
        create(api, access, name=f"t{number}")
    assert_error(api.post(TOKENS, {"name": "one too many"}, token=access), 409, "too_many_tokens")
    first = api.get(TOKENS, token=access).json()["tokens"][0]
    assert api.request("DELETE", f"{TOKENS}/{first['id']}", headers=bearer(access)).status_code == 204
    create(api, access, name="room again")


def test_verifying_the_email_shows_in_a_token_from_the_next_request(api, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    assert api.me(token).json()["email_verified"] is False
    link = token_in(wait_for_mail(logged_in["email"], VERIFY_SUBJECT))
    assert api.post("/auth/email/verify", {"token": link}).status_code == 204
    assert api.me(token).json()["email_verified"] is True


def test_a_reset_by_mail_ends_the_users_tokens(api, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    assert api.post("/auth/password/forgot", {"email": logged_in["email"]}).status_code == 202
    link = token_in(wait_for_mail(logged_in["email"], RESET_SUBJECT))
    reset = api.post("/auth/password/reset", {"token": link, "new_password": "new-" + secrets.token_hex(8)})
    assert reset.status_code == 204, reset.text
    assert_invalid_token(api.me(token))
