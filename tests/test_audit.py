"""The audit trail: events written with the actions, GET /auth/audit (admins) and GET /auth/events."""

import secrets

import pytest

from tests.helpers import assert_error, bearer


def _events(api, token, **params) -> list[dict]:
    response = api.get("/auth/events", token=token, params=params)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def _audit(api, token, **params) -> dict:
    response = api.get("/auth/audit", token=token, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_login_is_audited_with_where_it_came_from(api, new_user):
    tokens = api.login(new_user["username"], new_user["password"])
    api.post("/auth/login", {"username": new_user["username"], "password": "wrong-password-1"})
    events = _events(api, tokens["access_token"])
    actions = [event["action"] for event in events]
    # Newest first: the failed login, then the login's two events, then the signup.
    assert actions == ["authn_login_fail", "session_created", "authn_login_success", "user_created"]
    failed, created, success, _ = events
    assert failed["result"] == "failure" and failed["details"] == {"reason": "bad_password"}
    assert failed["actor_id"] is None and failed["target_id"] == new_user["id"]
    assert success["result"] == "success" and success["session_id"] == created["session_id"]
    assert success["client_ip"]  # the address nginx saw (127.0.0.1 locally, a bridge address in compose)
    assert success["user_agent"].startswith("python-requests")
    assert len(success["request_id"]) >= 16


def test_no_event_holds_a_secret(api, admin_token, logged_in):
    new_password = "new-" + secrets.token_hex(8)
    change = {"current_password": logged_in["password"], "new_password": new_password}
    assert api.post("/auth/password", change, token=logged_in["access_token"]).status_code == 204
    rotated = api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]})
    assert rotated.status_code == 200
    page = _audit(api, admin_token, user=logged_in["username"], limit=200)
    text = str(page)
    for secret in (
        logged_in["password"],
        new_password,
        logged_in["access_token"],
        logged_in["refresh_token"],
        rotated.json()["refresh_token"],
    ):
        assert secret not in text
    assert "authn_password_change" in [event["action"] for event in page["events"]]


def test_refresh_reuse_and_logout_are_audited(api, logged_in):
    first = logged_in["refresh_token"]
    api.post("/auth/refresh", {"refresh_token": first})
    api.post("/auth/refresh", {"refresh_token": first})
    fresh = api.login(logged_in["username"], logged_in["password"])
    assert api.post("/auth/logout", token=fresh["access_token"]).status_code == 204
    other = api.login(logged_in["username"], logged_in["password"])
    events = _events(api, other["access_token"])
    revoked = [event["details"]["reason"] for event in events if event["action"] == "session_revoked"]
    assert revoked[:2] == ["logout", "refresh_token_reuse"]
    reuse = next(event for event in events if event["action"] == "authn_token_reuse")
    assert reuse["result"] == "failure" and reuse["target_id"] == logged_in["id"]


def test_admin_actions_are_audited_with_the_admin_as_actor(api, admin_token, logged_in):
    name = logged_in["username"]
    granted = api.request("PUT", f"/auth/users/{name}/roles/auditor", headers=bearer(admin_token))
    assert granted.status_code == 204
    assert api.post(f"/auth/users/{name}/disable", token=admin_token).status_code == 204
    events = _audit(api, admin_token, user=logged_in["id"])["events"]
    by_action = {event["action"]: event for event in events}
    admin_id = api.me(admin_token).json()["id"]
    assert by_action["authz_change"]["details"] == {"role": "auditor", "granted": True}
    assert by_action["authz_change"]["actor_id"] == admin_id
    assert by_action["user_disabled"]["actor_id"] == admin_id
    assert by_action["session_revoked"]["details"]["reason"] == "user_disabled"


def test_own_events_hide_where_others_acted_from(api, admin_token, logged_in):
    name = logged_in["username"]
    granted = api.request("PUT", f"/auth/users/{name}/roles/auditor", headers=bearer(admin_token))
    assert granted.status_code == 204
    api.post("/auth/login", {"username": name, "password": "wrong-password-1"})  # a stranger, say
    own = {event["action"]: event for event in _events(api, logged_in["access_token"])}
    for action in ("authz_change", "authn_login_fail"):
        assert (own[action]["client_ip"], own[action]["user_agent"], own[action]["request_id"]) == (
            "",
            "",
            "",
        )
    assert own["authz_change"]["details"] == {"role": "auditor", "granted": True}
    # What the user did shows where from; the admin's trail shows everything.
    assert own["authn_login_success"]["client_ip"] and own["authn_login_success"]["request_id"]
    trail = {event["action"]: event for event in _audit(api, admin_token, user=logged_in["id"])["events"]}
    assert trail["authz_change"]["client_ip"] and trail["authz_change"]["request_id"]


def test_the_trail_is_for_admins_only_and_a_refusal_is_audited(api, admin_token, logged_in):
    assert_error(api.get("/auth/audit", token=logged_in["access_token"]), 403, "forbidden")
    refusals = _audit(api, admin_token, user=logged_in["username"], type="authz_fail")["events"]
    assert len(refusals) == 1
    assert refusals[0]["details"] == {"method": "GET", "route": "/auth/audit"}
    assert refusals[0]["actor_id"] == logged_in["id"]


def test_keyset_pages_cover_every_event_once(api, admin_token, new_user):
    for _ in range(3):
        api.login(new_user["username"], new_user["password"])
    everything = _audit(api, admin_token, user=new_user["username"], limit=200)["events"]
    assert len(everything) == 7  # user_created + 3 x (login success, session created)
    seen, cursor = [], None
    while True:
        params = {"user": new_user["username"], "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _audit(api, admin_token, **params)
        seen += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [event["id"] for event in seen] == [event["id"] for event in everything]
    ids = [int(event["id"]) for event in seen]
    assert ids == sorted(ids, reverse=True)


def test_filters_by_type_and_time(api, admin_token, new_user):
    api.login(new_user["username"], new_user["password"])
    events = _audit(api, admin_token, user=new_user["id"])["events"]
    created = next(event for event in events if event["action"] == "user_created")
    only = _audit(api, admin_token, user=new_user["id"], type="user_created")["events"]
    assert [event["id"] for event in only] == [created["id"]]
    after = _audit(api, admin_token, user=new_user["id"], since=events[0]["time"])["events"]
    assert [event["id"] for event in after] == [e["id"] for e in events if e["time"] >= events[0]["time"]]
    before = _audit(api, admin_token, user=new_user["id"], until=created["time"])["events"]
    assert before == []
    assert _audit(api, admin_token, user="nobody-" + secrets.token_hex(4))["events"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "x"},
        {"limit": "²"},
        {"cursor": "abc"},
        {"since": "yesterday"},
        {"until": "2026-13-01"},
        {"type": "DROP TABLE"},
        {"colour": "blue"},
        {"user": ""},
    ],
)
def test_bad_filters_are_422(api, admin_token, params):
    body = assert_error(api.get("/auth/audit", token=admin_token, params=params), 422, "validation_failed")
    assert set(body["fields"]) == set(params)


def test_own_events_refuse_unknown_parameters(api, logged_in):
    response = api.get("/auth/events", token=logged_in["access_token"], params={"user": "someone"})
    assert assert_error(response, 422, "validation_failed")["fields"] == {"user": "is not a known parameter"}
