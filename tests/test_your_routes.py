"""The worked example of docs/INTEGRATING.md "Add your own routes" (your_routes.py), through nginx."""

from tests.helpers import assert_error, bearer


def test_hello_greets_any_signed_in_user(api, logged_in):
    response = api.get("/api/v1/example/hello", token=logged_in["access_token"])
    assert response.status_code == 200, response.text
    assert response.json() == {"message": f"Hello, {logged_in['username']}.", "user_id": logged_in["id"]}


def test_hello_refuses_a_missing_or_revoked_token(api, logged_in):
    assert_error(api.get("/api/v1/example/hello"), 401, "missing_token")
    token = logged_in["access_token"]
    assert (
        api.post("/auth/logout", {"refresh_token": logged_in["refresh_token"]}, token=token).status_code
        == 204
    )
    assert_error(api.get("/api/v1/example/hello", token=token), 401, "invalid_token")


def test_reports_need_admin_or_auditor(api, admin_token, new_user):
    token = api.login(new_user["username"], new_user["password"])["access_token"]
    assert_error(api.get("/api/v1/example/reports/2026", token=token), 403, "forbidden")
    granted = api.request(
        "PUT", f"/auth/users/{new_user['username']}/roles/auditor", headers=bearer(admin_token)
    )
    assert granted.status_code == 204, granted.text
    token = api.login(new_user["username"], new_user["password"])["access_token"]
    response = api.get("/api/v1/example/reports/2026", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"year": 2026, "requested_by": new_user["username"], "reports": []}
    assert api.get("/api/v1/example/reports/2026", token=admin_token).status_code == 200
