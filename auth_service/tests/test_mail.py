"""Mail in-process: settings, backoff, equal work for reset requests, expired tokens,
and the verified-email rule at login (Flask test client, real Postgres and Redis)."""

import dataclasses
import secrets

import psycopg
import pytest

from auth_app.app import create_app
from auth_app.mail import messages as mail_messages
from auth_app.mail import store as mail_store
from auth_app.mail.link_tokens import EMAIL_VERIFICATION, PASSWORD_RESET, new_email_token
from auth_app.mail.outbox import MAX_RETRY_SECONDS, retry_delay
from auth_app.mail.settings import load_mail_settings, read_smtp_config
from authcore.settings import SettingsError


def signup(client) -> dict:
    name = "m-" + secrets.token_hex(5)
    body = {"username": name, "email": f"{name}@example.com", "password": "password-1"}
    response = client.post("/auth/signup", json=body)
    assert response.status_code == 201, response.get_json()
    return {**body, "id": response.get_json()["id"]}


@pytest.mark.parametrize(
    ("url", "host", "port", "implicit_tls", "starttls"),
    [
        ("smtp://mail.example.com", "mail.example.com", 25, False, False),
        ("smtp://127.0.0.1:1025", "127.0.0.1", 1025, False, False),
        ("smtp://mail.example.com:587?starttls=1", "mail.example.com", 587, False, True),
        ("smtps://mail.example.com", "mail.example.com", 465, True, False),
    ],
)
def test_smtp_url_forms(url, host, port, implicit_tls, starttls):
    config = read_smtp_config({"SMTP_URL": url})
    assert (config.host, config.port, config.implicit_tls, config.starttls) == (
        host,
        port,
        implicit_tls,
        starttls,
    )
    assert config.timeout == 10 and config.username is None


@pytest.mark.parametrize(
    "env",
    [
        {"SMTP_URL": "http://mail.example.com"},
        {"SMTP_URL": "smtp://"},
        {"SMTP_URL": "smtp://user:pw@mail.example.com"},
        {"SMTP_URL": "smtp://mail.example.com?starttls=maybe"},
        {"SMTP_URL": "smtp://mail.example.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"},
        {"SMTP_URL": "smtps://mail.example.com", "SMTP_USERNAME": "u"},
        {"SMTP_URL": "smtps://mail.example.com", "SMTP_TIMEOUT": "0"},
    ],
)
def test_bad_smtp_settings_are_refused_without_echoing_values(env):
    with pytest.raises(SettingsError) as refused:
        read_smtp_config(env)
    assert "pw" not in str(refused.value)


def test_smtp_password_from_a_file_and_never_in_repr(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-value\n")
    env = {"SMTP_URL": "smtps://mail.example.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD_FILE": str(secret)}
    config = read_smtp_config(env)
    assert config.password == "s3cret-value"
    assert "s3cret" not in repr(config)
    with pytest.raises(SettingsError):
        read_smtp_config({**env, "SMTP_PASSWORD": "also"})


def test_mail_defaults():
    settings = load_mail_settings({})
    assert settings.smtp is None
    assert settings.reset_token_ttl == 1800
    assert (settings.require_verified_email, settings.notify_password_change, settings.notify_new_device) == (
        False,
        True,
        False,
    )
    with pytest.raises(SettingsError):
        load_mail_settings({"NOTIFY_NEW_DEVICE": "perhaps"})
    with pytest.raises(SettingsError):
        load_mail_settings({"PUBLIC_URL": "javascript:alert(1)"})


def test_retries_back_off_exponentially_up_to_a_cap():
    assert [retry_delay(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    assert retry_delay(30) == MAX_RETRY_SECONDS


def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(app, client, monkeypatch):
    """Same statements, same outbox row: nothing in the request depends on the address being known.

    The request never looks the address up (the sender does, later), so it
    costs the same either way. What it does is recorded (a pass-through
    wrapper around psycopg's execute), not timed: a timing comparison
    depends on the machine; `make bench` measures it through the stack.
    """
    known = signup(client)["email"]
    unknown = f"nobody-{secrets.token_hex(6)}@example.com"
    reset = app.extensions["password_reset"]
    statements: list[str] = []
    real_execute = psycopg.Connection.execute

    def recording_execute(self, query, params=None, **kwargs):
        statements.append(str(query))
        return real_execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", recording_execute)
    done = {}
    for address in (known, unknown):
        statements.clear()
        reset.request(address)
        done[address] = list(statements)
    monkeypatch.undo()
    assert done[known] == done[unknown] and done[known], done
    with app.extensions["pool"].connection() as conn:
        rows = conn.execute(
            "SELECT email, kind, user_id, details FROM mail_outbox WHERE kind = %s AND email = ANY(%s)",
            (PASSWORD_RESET, [known, unknown]),
        ).fetchall()
    assert sorted(row[1:] for row in rows) == [(PASSWORD_RESET, None, {})] * 2, rows


def _stored_token(app, user_id: str, purpose: str, email: str, expired: bool) -> str:
    token, token_hash = new_email_token()
    with app.extensions["pool"].connection() as conn, conn.transaction():
        mail_store.replace_token(conn, token_hash, user_id, purpose, email, 60)
        if expired:
            conn.execute(
                "UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
                (token_hash,),
            )
    return token


def test_expired_tokens_are_refused_and_fresh_ones_work(app, client):
    user = signup(client)
    for purpose, path, code, extra in (
        (PASSWORD_RESET, "/auth/password/reset", "invalid_reset_token", {"new_password": "another-pass-1"}),
        (EMAIL_VERIFICATION, "/auth/email/verify", "invalid_verification_token", {}),
    ):
        expired = _stored_token(app, user["id"], purpose, user["email"], expired=True)
        response = client.post(path, json={"token": expired, **extra})
        assert response.status_code == 400 and response.get_json()["error"] == code
        fresh = _stored_token(app, user["id"], purpose, user["email"], expired=False)
        assert client.post(path, json={"token": fresh, **extra}).status_code == 204


def test_unverified_logins_are_refused_only_when_required(settings, client):
    user = signup(client)
    strict_settings = dataclasses.replace(
        settings, mail=dataclasses.replace(settings.mail, require_verified_email=True)
    )
    strict = create_app(strict_settings, pool_size=2, background=False)
    try:
        strict_client = strict.test_client()
        credentials = {"username": user["username"], "password": user["password"]}
        refused = strict_client.post("/auth/login", json=credentials)
        assert refused.status_code == 403 and refused.get_json()["error"] == "email_not_verified"
        wrong = strict_client.post("/auth/login", json={**credentials, "password": "wrong-password"})
        assert wrong.status_code == 401  # a wrong password learns nothing about verification
        assert client.post("/auth/login", json=credentials).status_code == 200  # the default: allowed
        token = _stored_token(strict, user["id"], EMAIL_VERIFICATION, user["email"], expired=False)
        assert strict_client.post("/auth/email/verify", json={"token": token}).status_code == 204
        assert strict_client.post("/auth/login", json=credentials).status_code == 200
    finally:
        strict.extensions["pool"].close()


def test_messages_carry_the_link_and_its_lifetime_in_words():
    env = {"PUBLIC_URL": "https://auth.example.com/", "MAIL_FROM": "x <x@example.com>"}
    settings = load_mail_settings(env)
    user = mail_store.Recipient(
        id=None, username="alice", email="alice@example.com", email_verified=False, disabled=False
    )
    reset = mail_messages.password_reset(settings, user, "t" * 43)
    assert reset["To"] == "alice@example.com" and reset["From"] == "x <x@example.com>"
    assert "https://auth.example.com/reset-password#token=" + "t" * 43 in reset.get_content()
    assert "within 30 minutes" in reset.get_content()
    verify = mail_messages.email_verification(settings, user, "v" * 43)
    assert "https://auth.example.com/verify-email#token=" in verify.get_content()
    assert "within 2 days" in verify.get_content()
