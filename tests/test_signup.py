"""POST /auth/signup: the rules of docs/API.md, every error case, nothing half-written."""

import secrets

import pytest

from tests.helpers import assert_error, random_user


def test_signup_returns_the_new_user(api):
    fields = random_user()
    response = api.post("/auth/signup", fields)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "roles", "created_at"}
    assert body["username"] == fields["username"]
    assert body["email"] == fields["email"]
    assert body["roles"] == []
    assert "password" not in response.text


def test_username_is_normalised_nfkc_then_casefolded(api):
    suffix = secrets.token_hex(4)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "alice")  # fullwidth 'alice'
    created = api.create_user(username=f"{fullwidth}-{suffix}")
    assert created["username"] == f"alice-{suffix}"
    # The plain spelling is the same account, so it collides.
    again = api.post("/auth/signup", {**random_user(), "username": f"ALICE-{suffix}"})
    assert_error(again, 409, "username_taken")


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 40, "-abc", "abc-", "ab--cd", "ab_cd", "ab cd", "ab.cd", "émile", "ab\u200bcd"],
)
def test_invalid_usernames_are_refused(api, username):
    body = assert_error(
        api.post("/auth/signup", {**random_user(), "username": username}), 422, "validation_failed"
    )
    assert "username" in body["fields"]


@pytest.mark.parametrize("shape", ["{}", "{}-a-b", "0day-{}", "{}" + "9" * 27])
def test_valid_username_shapes_are_accepted(api, shape):
    username = shape.format(secrets.token_hex(6))  # 12 hex chars; the longest shape is 39
    assert api.post("/auth/signup", {**random_user(), "username": username}).status_code == 201


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short7!", "too short"),
        ("é" * 37, "74 bytes in UTF-8"),
        ("x" * 73, "73 bytes"),
        ("pass\x00word-long", "NUL"),
    ],
)
def test_invalid_passwords_are_refused(api, password, problem):
    body = assert_error(
        api.post("/auth/signup", {**random_user(), "password": password}), 422, "validation_failed"
    )
    assert "password" in body["fields"], problem


def test_password_of_exactly_72_bytes_works_for_login(api):
    password = "é" * 36  # 72 bytes
    user = api.create_user(password=password)
    assert api.post("/auth/login", {"username": user["username"], "password": password}).status_code == 200


@pytest.mark.parametrize("email", ["no-at-sign", "a@", "@b.com", "a b@c.com", "a@b", "x" * 250 + "@e.com"])
def test_invalid_emails_are_refused(api, email):
    body = assert_error(api.post("/auth/signup", {**random_user(), "email": email}), 422, "validation_failed")
    assert "email" in body["fields"]


def test_email_is_unique_case_insensitively(api, new_user):
    other = {**random_user(), "email": new_user["email"].upper()}
    body = assert_error(api.post("/auth/signup", other), 409, "email_taken")
    assert body["fields"] == {"email": "is taken"}
    # Nothing half-written: the refused username is still free.
    assert api.post("/auth/signup", {**other, "email": random_user()["email"]}).status_code == 201


def test_roles_cannot_be_set_at_signup(api):
    fields = {**random_user(), "roles": ["admin"], "id": "00000000-0000-0000-0000-000000000000"}
    response = api.post("/auth/signup", fields)
    assert response.status_code == 201
    assert response.json()["roles"] == []
    assert response.json()["id"] != fields["id"]
    token = api.login(fields["username"], fields["password"])["access_token"]
    assert api.me(token).json()["roles"] == []


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"username": None}, "username", "is required"),
        ({"email": ""}, "email", "must not be empty"),
        ({"password": 12345678}, "password", "must be a string"),
        ({"username": ["a"]}, "username", "must be a string"),
        ({"email": "a\x00@b.com"}, "email", "must not contain NUL characters"),
    ],
)
def test_missing_empty_or_mistyped_fields_are_422_with_fields(api, change, field, problem):
    fields = {**random_user(), **change}
    fields = {k: v for k, v in fields.items() if v is not None}
    body = assert_error(api.post("/auth/signup", fields), 422, "validation_failed")
    assert body["fields"][field] == problem
    # Nothing was written: the same username signs up fine afterwards.
    if field != "username":
        assert api.post("/auth/signup", random_user() | {"username": fields["username"]}).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'"a string"',
        b"null",
        b"[" * 5000 + b"]" * 5000,  # Flask's own parser raises RecursionError on this
        b'{"username": NaN}',
        b'{"username": "\\ud800"}',
        b"\xff\xfe{}",
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(api, raw):
    response = api.request("POST", "/auth/signup", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_other_content_types_are_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request("POST", "/auth/signup", data=b'{"a": 1}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


def test_json_with_charset_parameter_is_accepted(api):
    response = api.request(
        "POST",
        "/auth/signup",
        data=__import__("json").dumps(random_user()),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201
