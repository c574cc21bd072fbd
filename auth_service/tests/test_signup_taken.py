"""REQUIRE_VERIFIED_EMAIL on: signing up with a taken address answers like a success and tells the owner."""

import dataclasses
import secrets

import pytest

from auth_app.app import create_app
from auth_app.mail import messages as mail_messages
from auth_app.mail.settings import load_mail_settings
from auth_app.mail.store import Recipient


@pytest.fixture
def strict(settings):
    """An app with REQUIRE_VERIFIED_EMAIL on."""
    strict_settings = dataclasses.replace(
        settings, mail=dataclasses.replace(settings.mail, require_verified_email=True)
    )
    application = create_app(strict_settings, pool_size=2, background=False)
    yield application
    application.extensions["pool"].close()


def _fields(email: str | None = None) -> dict:
    name = "t-" + secrets.token_hex(5)
    return {"username": name, "email": email or f"{name}@example.com", "password": "password-1"}


def _notices(app, user_id: str) -> list[dict]:
    with app.extensions["pool"].connection() as conn:
        rows = conn.execute(
            "SELECT details FROM mail_outbox WHERE kind = 'signup_attempt' AND user_id = %s", (user_id,)
        ).fetchall()
    return [row[0] for row in rows]


def test_a_taken_address_answers_like_a_new_account_and_the_owner_is_told(strict):
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields())
    assert owner.status_code == 201
    owner = owner.get_json()
    again = client.post("/auth/signup", json=_fields(email=owner["email"].upper()))
    fresh = client.post("/auth/signup", json=_fields())
    assert again.status_code == fresh.status_code == 201
    assert again.headers["Content-Type"] == fresh.headers["Content-Type"]
    body, fresh_body = again.get_json(), fresh.get_json()
    assert set(body) == set(fresh_body) and body["roles"] == fresh_body["roles"] == []
    assert body["id"] != owner["id"] and body["email"] == owner["email"].upper()
    assert len(body["created_at"]) == len(fresh_body["created_at"])
    assert len(_notices(strict, owner["id"])) == 1
    assert _notices(strict, fresh_body["id"]) == []


def test_a_taken_username_is_still_409_and_tells_nobody(strict):
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields()).get_json()
    again = client.post("/auth/signup", json={**_fields(), "username": owner["username"]})
    assert again.status_code == 409 and again.get_json()["error"] == "username_taken"
    assert _notices(strict, owner["id"]) == []


def test_the_notices_to_one_owner_are_limited_the_answer_is_not(strict):
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields()).get_json()
    answers = [client.post("/auth/signup", json=_fields(email=owner["email"])).status_code for _ in range(7)]
    assert answers == [201] * 7
    assert len(_notices(strict, owner["id"])) == 5


def test_without_the_setting_a_taken_address_is_409(client):
    owner = client.post("/auth/signup", json=_fields()).get_json()
    again = client.post("/auth/signup", json=_fields(email=owner["email"]))
    assert again.status_code == 409 and again.get_json()["error"] == "email_taken"


def test_the_notice_says_what_happened():
    settings = load_mail_settings({"PUBLIC_URL": "https://auth.example.com"})
    user = Recipient(
        id=None, username="alice", email="alice@example.com", email_verified=True, disabled=False
    )
    message = mail_messages.signup_attempt(settings, user, {"at": "2026-01-31 12:00:00 UTC"})
    assert message["Subject"] == "Someone tried to sign up with your address"
    assert message["To"] == "alice@example.com"
    text = message.get_content()
    assert "someone tried to sign up with your address" in text.lower()
    assert "2026-01-31 12:00:00 UTC" in text and "https://auth.example.com/" in text


def _login(client, login: str, password: str):
    return client.post("/auth/login", json={"username": login, "password": password})


def test_logging_in_to_a_signup_that_made_nothing_answers_as_for_a_new_unverified_account(strict):
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields()).get_json()
    new, ghost = _fields(), _fields(email=owner["email"].upper())
    assert client.post("/auth/signup", json=new).status_code == 201
    assert client.post("/auth/signup", json=ghost).status_code == 201
    for login in ("username", "email"):
        real = _login(client, new[login], new["password"])
        made_nothing = _login(client, ghost[login], ghost["password"])
        assert real.status_code == made_nothing.status_code == 403, login
        assert real.get_json()["error"] == made_nothing.get_json()["error"] == "email_not_verified"
        real = _login(client, new[login], "wrong-password-1")
        made_nothing = _login(client, ghost[login], "wrong-password-1")
        assert real.status_code == made_nothing.status_code == 401, login


def test_the_name_of_a_signup_that_made_nothing_is_taken_like_a_real_one(strict):
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields()).get_json()
    new, ghost = _fields(), _fields(email=owner["email"])
    client.post("/auth/signup", json=new)
    client.post("/auth/signup", json=ghost)
    for taken in (new, ghost):
        again = client.post("/auth/signup", json={**_fields(), "username": taken["username"].upper()})
        assert again.status_code == 409 and again.get_json()["error"] == "username_taken"


def test_a_taken_name_with_a_taken_address_is_409_username_taken_and_tells_nobody(strict):
    # 201 here would tell the address is taken: a taken name with a free address is 409.
    client = strict.test_client()
    owner = client.post("/auth/signup", json=_fields()).get_json()
    other = client.post("/auth/signup", json=_fields()).get_json()
    both_taken = {**_fields(), "username": other["username"], "email": owner["email"]}
    again = client.post("/auth/signup", json=both_taken)
    assert again.status_code == 409 and again.get_json()["error"] == "username_taken"
    assert _notices(strict, owner["id"]) == []
