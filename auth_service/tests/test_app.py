"""The auth_service app in-process (Flask test client) against the real Postgres and Redis."""

import secrets
import time

import psycopg

from auth_app import store
from auth_app.app import create_app
from auth_app.passwords import hash_password


def signup(client, **overrides):
    name = "t-" + secrets.token_hex(5)
    body = {"username": name, "email": f"{name}@example.com", "password": "password-1"} | overrides
    return client.post("/auth/signup", json=body), body


def test_signup_then_login(client):
    response, body = signup(client)
    assert response.status_code == 201
    login = client.post("/auth/login", json={"username": body["username"], "password": body["password"]})
    assert login.status_code == 200
    assert login.get_json()["token_type"] == "Bearer"


def test_unexpected_errors_are_json_500_without_traceback(app):
    @app.get("/auth/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/auth/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_error", "message": "An unexpected error occurred."}
    assert b"secret internals" not in response.data


def test_postgres_unreachable_is_503_with_retry_after(settings):
    down = settings.__class__(**{**settings.__dict__, "database_url": "postgresql://x:y@127.0.0.1:1/none"})
    app = create_app(down, pool_size=1, background=False)
    try:
        started = time.monotonic()
        response = app.test_client().post(
            "/auth/login", json={"username": "someone", "password": "password-1"}
        )
        assert response.status_code == 503
        assert response.get_json()["error"] == "unavailable"
        assert response.headers["Retry-After"]
        assert time.monotonic() - started < 5
        assert app.test_client().get("/auth/healthz").status_code == 503
    finally:
        app.extensions["pool"].close()


def test_redis_unreachable_makes_logout_503_and_keeps_the_session(settings, client):
    _, body = signup(client)
    tokens = client.post(
        "/auth/login", json={"username": body["username"], "password": body["password"]}
    ).get_json()
    broken = settings.__class__(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(broken, pool_size=1, background=False)
    try:
        headers = {"Authorization": "Bearer " + tokens["access_token"]}
        response = app.test_client().post("/auth/logout", headers=headers)
        assert response.status_code == 503
    finally:
        app.extensions["pool"].close()
    # The failed logout wrote nothing: the session still logs out normally.
    assert client.post("/auth/logout", headers=headers).status_code == 204


def test_a_login_rehashes_a_password_stored_at_another_cost(app, client, database_url):
    """After a change of BCRYPT_ROUNDS a known account is brought to the new cost at its next login."""
    name = "t-" + secrets.token_hex(5)
    old_hash = hash_password("rehash me please", rounds=5)
    with psycopg.connect(database_url, autocommit=True) as conn:
        user = store.insert_user(conn, name, f"{name}@example.com", old_hash)
    body = {"username": name, "password": "rehash me please"}
    assert client.post("/auth/login", json=body).status_code == 200
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = store.find_user_by_id(conn, user.id).password_hash
    assert stored != old_hash and stored.startswith("$2b$04$")  # the test settings' cost
    assert client.post("/auth/login", json=body).status_code == 200
    assert client.post("/auth/login", json={**body, "password": "wrong"}).status_code == 401


def test_a_statement_the_role_may_not_run_is_refused_logged_and_503(app, caplog):
    """Real Postgres refuses the service's role a schema change; nothing of the transaction stays."""
    marker = "t-" + secrets.token_hex(5)

    @app.post("/auth/forbidden-change")
    def forbidden_change():
        with app.extensions["pool"].connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO users (username, email, email_key, password_hash) VALUES (%s, %s, %s, 'x')",
                (marker, f"{marker}@example.com", f"{marker}@example.com"),
            )
            conn.execute("ALTER TABLE users ADD COLUMN nickname text")
        return {}

    response = app.test_client().post("/auth/forbidden-change")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "unavailable",
        "message": "A dependency is unavailable; retry shortly.",
    }
    assert "refused by a dependency" in caplog.text and "InsufficientPrivilege" in caplog.text
    with app.extensions["pool"].connection() as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE username = %s", (marker,)).fetchone()[0] == 0
