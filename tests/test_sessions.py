"""Sessions: listing, ending one, logout everywhere, password change."""

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import assert_error, patient_post


def sessions_of(api, token):
    response = api.get("/auth/sessions", token=token)
    assert response.status_code == 200, response.text
    return response.json()["sessions"]


def test_sessions_list_shows_each_active_session_once(api, new_user):
    first = api.login(new_user["username"], new_user["password"])
    second = api.post(
        "/auth/login",
        {"username": new_user["username"], "password": new_user["password"]},
        headers={"User-Agent": "pytest-phone/1.0", "X-Forwarded-For": "203.0.113.9"},
    ).json()
    listed = sessions_of(api, first["access_token"])
    assert len(listed) == 2
    assert {s["current"] for s in listed} == {True, False}
    current = next(s for s in listed if s["current"])
    other = next(s for s in listed if not s["current"])
    assert current["id"] == api.me(first["access_token"]).json()["session_id"]
    assert other["id"] == api.me(second["access_token"]).json()["session_id"]
    assert other["user_agent"] == "pytest-phone/1.0"
    # The address nginx saw, not the one the client claimed.
    assert other["ip"] != "203.0.113.9"
    assert ipaddress.ip_address(other["ip"]) == ipaddress.ip_address(current["ip"])
    assert set(current) == {"id", "created_at", "last_used_at", "user_agent", "ip", "current"}


def test_ended_sessions_leave_the_list(api, new_user):
    first = api.login(new_user["username"], new_user["password"])
    second = api.login(new_user["username"], new_user["password"])
    api.post("/auth/logout", token=second["access_token"])
    assert len(sessions_of(api, first["access_token"])) == 1


def test_deleting_one_of_my_sessions_revokes_it_at_once(api, new_user):
    me = api.login(new_user["username"], new_user["password"])
    other = api.login(new_user["username"], new_user["password"])
    other_id = api.me(other["access_token"]).json()["session_id"]
    assert api.request("DELETE", f"/auth/sessions/{other_id}", headers=_auth(me)).status_code == 204
    assert_error(api.me(other["access_token"]), 401, "invalid_token")
    assert_error(api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}), 401, "invalid_token")
    assert api.me(me["access_token"]).status_code == 200
    # Already ended: now it is simply not found.
    assert_error(api.request("DELETE", f"/auth/sessions/{other_id}", headers=_auth(me)), 404, "not_found")


def test_someone_elses_session_is_404_and_survives(api):
    alice, bob = api.create_user(), api.create_user()
    alice_tokens = api.login(alice["username"], alice["password"])
    bob_tokens = api.login(bob["username"], bob["password"])
    bob_session = api.me(bob_tokens["access_token"]).json()["session_id"]
    response = api.request("DELETE", f"/auth/sessions/{bob_session}", headers=_auth(alice_tokens))
    assert_error(response, 404, "not_found")
    assert api.me(bob_tokens["access_token"]).status_code == 200


def test_session_ids_that_are_not_ids_are_404(api, logged_in):
    for bad in ("not-a-uuid", "1", "00000000-0000-0000-0000-000000000000", "%27%20OR%201=1"):
        assert_error(
            api.request("DELETE", f"/auth/sessions/{bad}", headers=_auth(logged_in)), 404, "not_found"
        )
    assert api.me(logged_in["access_token"]).status_code == 200


def test_logout_all_ends_every_session(api, new_user):
    logins = [api.login(new_user["username"], new_user["password"]) for _ in range(3)]
    assert api.post("/auth/logout-all", token=logins[0]["access_token"]).status_code == 204
    for tokens in logins:
        assert_error(api.me(tokens["access_token"]), 401, "invalid_token")
        assert_error(
            api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}), 401, "invalid_token"
        )
    # A login right after (same second) is a new session and works.
    fresh = api.login(new_user["username"], new_user["password"])
    assert api.me(fresh["access_token"]).status_code == 200
    assert len(sessions_of(api, fresh["access_token"])) == 1


def test_logout_all_leaves_other_users_alone(api):
    alice, bob = api.create_user(), api.create_user()
    alice_tokens = api.login(alice["username"], alice["password"])
    bob_tokens = api.login(bob["username"], bob["password"])
    api.post("/auth/logout-all", token=alice_tokens["access_token"])
    assert api.me(bob_tokens["access_token"]).status_code == 200


def test_password_change_ends_every_other_session(api, new_user):
    mine = api.login(new_user["username"], new_user["password"])
    other = api.login(new_user["username"], new_user["password"])
    body = {"current_password": new_user["password"], "new_password": "a-brand-new-password"}
    assert api.post("/auth/password", body, token=mine["access_token"]).status_code == 204
    assert api.me(mine["access_token"]).status_code == 200
    assert_error(api.me(other["access_token"]), 401, "invalid_token")
    assert_error(api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}), 401, "invalid_token")
    assert api.post("/auth/refresh", {"refresh_token": mine["refresh_token"]}).status_code == 200
    assert_error(
        api.post("/auth/login", {"username": new_user["username"], "password": new_user["password"]}),
        401,
        "invalid_credentials",
    )
    assert api.login(new_user["username"], "a-brand-new-password")["access_token"]


def test_password_change_checks_both_passwords(api, logged_in):
    token = logged_in["access_token"]
    wrong = api.post(
        "/auth/password", {"current_password": "wrong-password", "new_password": "x" * 12}, token=token
    )
    assert assert_error(wrong, 422, "validation_failed")["fields"] == {"current_password": "is incorrect"}
    weak = api.post(
        "/auth/password", {"current_password": logged_in["password"], "new_password": "short"}, token=token
    )
    assert "new_password" in assert_error(weak, 422, "validation_failed")["fields"]
    assert_error(api.post("/auth/password", {"current_password": logged_in["password"]}, token=token), 422,
                 "validation_failed")  # fmt: skip
    assert_error(api.post("/auth/password", {"x": 1}), 401, "missing_token")
    # Nothing changed: the old password still logs in.
    assert api.login(logged_in["username"], logged_in["password"])


def test_twenty_parallel_logins_get_twenty_sessions(api, base_url, new_user):
    def login(_):
        body = {"username": new_user["username"], "password": new_user["password"]}
        return patient_post(base_url + "/auth/login", body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(login, range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    tokens = [r.json()["access_token"] for r in responses]
    session_ids = {api.me(t).json()["session_id"] for t in tokens}
    assert len(session_ids) == 20
    assert len(sessions_of(api, tokens[0])) == 20
    api.post("/auth/logout", token=tokens[0])
    assert api.me(tokens[0]).status_code == 401
    assert all(api.me(t).status_code == 200 for t in tokens[1:])


def test_last_used_at_moves_on_refresh(api, logged_in):
    before = sessions_of(api, logged_in["access_token"])[0]["last_used_at"]
    time.sleep(0.01)
    fresh = api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}).json()
    assert sessions_of(api, fresh["access_token"])[0]["last_used_at"] > before


def _auth(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
