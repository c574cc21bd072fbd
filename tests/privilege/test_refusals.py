"""A part that tries what its role may not do gets a refusal: logged, answered 503 JSON, nothing half-done.

The refusal is made real by taking a command away from a service's Redis
user for the length of the test (as Redis's admin), then giving it back.
"""

import pytest

from tests.helpers import assert_error


class TakenRights:
    """Commands taken away from Redis users, given back on ``restore``."""

    def __init__(self, privileges):
        self.privileges = privileges
        self.taken: list[tuple[str, str]] = []

    def take(self, user: str, command: str) -> None:
        """Refuse ``command`` to the ACL user ``user`` from now on."""
        self.privileges.run("redis-cli", "ACL", "SETUSER", user, f"-{command}")
        self.taken.append((user, command))

    def restore(self) -> None:
        """Give every taken command back."""
        while self.taken:
            user, command = self.taken.pop()
            self.privileges.run("redis-cli", "ACL", "SETUSER", user, f"+{command}")


@pytest.fixture
def rights(privileges):
    """Take commands away from Redis users; all given back afterwards, whatever happens."""
    taken = TakenRights(privileges)
    yield taken
    taken.restore()


def test_a_refused_revocation_check_answers_503_json(api, logged_in, rights):
    assert api.me(logged_in["access_token"]).status_code == 200
    rights.take("api_service", "mget")
    response = api.me(logged_in["access_token"])
    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"]
    assert "X-Content-Type-Options" in response.headers
    rights.restore()
    assert api.me(logged_in["access_token"]).status_code == 200


def test_a_refused_login_answers_503_and_starts_no_session(api, new_user, rights):
    credentials = {"username": new_user["username"], "password": new_user["password"]}
    rights.take("auth_service", "hget")  # the per-account throttle is read before anything is written
    assert_error(api.post("/auth/login", credentials), 503, "unavailable")
    rights.restore()
    tokens = api.login(new_user["username"], new_user["password"])
    sessions = api.get("/auth/sessions", token=tokens["access_token"]).json()
    assert len(sessions["sessions"]) == 1, sessions
