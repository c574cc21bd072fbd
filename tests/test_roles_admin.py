"""Roles and admin: granting, removing (effective at once), disabling users."""

import pytest

from tests.helpers import assert_error


def put_role(api, token, username, role):
    return api.request(
        "PUT", f"/auth/users/{username}/roles/{role}", headers={"Authorization": f"Bearer {token}"}
    )


def delete_role(api, token, username, role):
    return api.request(
        "DELETE", f"/auth/users/{username}/roles/{role}", headers={"Authorization": f"Bearer {token}"}
    )


def test_the_admin_made_by_the_command_can_call_the_admin_route(api, admin_token):
    response = api.get("/api/v1/admin", token=admin_token)
    assert response.status_code == 200
    assert response.json()["message"]
    assert "admin" in api.me(admin_token).json()["roles"]


def test_granting_shows_after_the_next_refresh(api, admin_token, logged_in):
    assert put_role(api, admin_token, logged_in["username"], "admin").status_code == 204
    assert put_role(api, admin_token, logged_in["username"], "admin").status_code == 204  # idempotent
    # The token in hand is unchanged (roles travel in tokens)...
    assert_error(api.get("/api/v1/admin", token=logged_in["access_token"]), 403, "forbidden")
    # ...the next refresh carries the role.
    fresh = api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}).json()
    assert api.get("/api/v1/admin", token=fresh["access_token"]).status_code == 200
    assert api.me(fresh["access_token"]).json()["roles"] == ["admin"]


def test_removing_a_role_takes_effect_on_the_very_next_request(api, admin_token, logged_in):
    put_role(api, admin_token, logged_in["username"], "admin")
    promoted = api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}).json()
    assert api.get("/api/v1/admin", token=promoted["access_token"]).status_code == 200
    assert delete_role(api, admin_token, logged_in["username"], "admin").status_code == 204
    assert_error(api.get("/api/v1/admin", token=promoted["access_token"]), 401, "invalid_token")
    assert_error(api.me(promoted["access_token"]), 401, "invalid_token")
    # The session lives on: a refresh gives tokens without the role.
    demoted = api.post("/auth/refresh", {"refresh_token": promoted["refresh_token"]}).json()
    assert api.me(demoted["access_token"]).json()["roles"] == []
    assert_error(api.get("/api/v1/admin", token=demoted["access_token"]), 403, "forbidden")
    # Removing a role the user doesn't have is a no-op that keeps tokens alive.
    assert delete_role(api, admin_token, logged_in["username"], "admin").status_code == 204
    assert api.me(demoted["access_token"]).status_code == 200


def test_role_routes_need_admin(api, logged_in, new_user):
    token = logged_in["access_token"]
    assert_error(put_role(api, token, new_user["username"], "admin"), 403, "forbidden")
    assert_error(delete_role(api, token, new_user["username"], "admin"), 403, "forbidden")
    disable = api.post(f"/auth/users/{new_user['username']}/disable", token=token)
    assert_error(disable, 403, "forbidden")
    assert_error(api.request("PUT", f"/auth/users/{new_user['username']}/roles/admin"), 401, "missing_token")
    # Nothing changed.
    assert api.me(token).json()["roles"] == []


@pytest.mark.parametrize("role", ["ADMIN", "a" * 33, "a.b", "a%20b", "r%C3%B4le"])
def test_invalid_role_names_are_422(api, admin_token, new_user, role):
    response = put_role(api, admin_token, new_user["username"], role)
    assert assert_error(response, 422, "validation_failed")["fields"] == {
        "role": "must be 1-32 characters of a-z 0-9 _ -"
    }


def test_unknown_users_are_404(api, admin_token):
    assert_error(put_role(api, admin_token, "nobody-here-123", "editor"), 404, "not_found")
    assert_error(delete_role(api, admin_token, "nobody-here-123", "editor"), 404, "not_found")
    assert_error(api.post("/auth/users/nobody-here-123/disable", token=admin_token), 404, "not_found")


def test_disabling_a_user_ends_everything_and_refuses_logins(api, admin_token, logged_in):
    assert api.post(f"/auth/users/{logged_in['username']}/disable", token=admin_token).status_code == 204
    assert_error(api.me(logged_in["access_token"]), 401, "invalid_token")
    assert_error(
        api.post("/auth/refresh", {"refresh_token": logged_in["refresh_token"]}), 401, "invalid_token"
    )
    login = api.post("/auth/login", {"username": logged_in["username"], "password": logged_in["password"]})
    assert_error(login, 401, "invalid_credentials")


def test_usernames_in_admin_paths_are_normalised(api, admin_token, new_user):
    assert put_role(api, admin_token, new_user["username"].upper(), "editor").status_code == 204
    tokens = api.login(new_user["username"], new_user["password"])
    assert api.me(tokens["access_token"]).json()["roles"] == ["editor"]
