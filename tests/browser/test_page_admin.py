"""The page's admin part: only admins see it; grant and remove a role, disable a user."""

from playwright.sync_api import expect

from tests.browser import pages


def admin_form(page):
    """The "Administration" form (admins only)."""
    return page.get_by_role("form", name="Administration")


def test_only_admins_see_the_admin_part(open_device, api):
    user = api.create_user()
    page = open_device().page
    pages.log_in(page, user["username"], user["password"])
    pages.expect_signed_in(page, user["username"])
    expect(admin_form(page)).to_be_hidden()


def test_an_admin_grants_and_removes_a_role_and_disables_a_user(open_device, api, admin_credentials):
    user = api.create_user()
    page = open_device().page
    pages.log_in(page, admin_credentials["username"], admin_credentials["password"])
    pages.expect_signed_in(page, admin_credentials["username"])
    form = admin_form(page)
    form.get_by_label("User", exact=True).fill(user["username"])
    form.get_by_label("Role", exact=True).fill("auditor")

    form.get_by_role("button", name="Grant role").click()
    expect(pages.notice(page)).to_have_text(f"{user['username']}: role auditor granted.")
    token = api.login(user["username"], user["password"])["access_token"]
    assert api.me(token).json()["roles"] == ["auditor"]

    form.get_by_role("button", name="Remove role").click()
    expect(pages.notice(page)).to_have_text(f"{user['username']}: role auditor removed.")
    assert api.me(token).status_code == 401  # tokens carrying the role are cut off

    form.get_by_label("Role", exact=True).fill("Not A Role")
    form.get_by_role("button", name="Grant role").click()
    expect(form.get_by_role("alert")).to_contain_text("Some fields are invalid. (role ")
    form.get_by_label("User", exact=True).fill("nobody-" + user["username"])
    form.get_by_role("button", name="Disable user").click()
    expect(form.get_by_role("alert")).to_have_text("No such user.")

    form.get_by_label("User", exact=True).fill(user["username"])
    form.get_by_role("button", name="Disable user").click()
    expect(pages.notice(page)).to_have_text(f"{user['username']} is disabled; their sessions have ended.")
    login = api.post("/auth/login", {"username": user["username"], "password": user["password"]})
    assert login.status_code == 401
