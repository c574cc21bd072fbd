"""Personal access tokens when Redis fails: 503 while it is away, the same answers once it is rebuilt."""

import pytest

from tests.faults.conftest import wait_for_status
from tests.helpers import assert_error, bearer

pytestmark = pytest.mark.slow


def create(api, access_token: str) -> dict:
    response = api.post("/auth/tokens", {"name": "fault"}, token=access_token)
    assert response.status_code == 201, response.text
    return response.json()


def test_redis_stopped_a_token_is_503_and_no_token_is_created(api, stack, logged_in):
    token = create(api, logged_in["access_token"])["token"]
    stack.run("stop", "redis")
    try:
        assert_error(api.me(token), 503, "unavailable")
        refused = api.post("/auth/tokens", {"name": "during"}, token=logged_in["access_token"])
        assert refused.status_code in (401, 503), refused.text  # never a 201 nobody can use
    finally:
        stack.run("start", "redis")
    assert wait_for_status(lambda: api.me(token), 200).json()["id"] == logged_in["id"]
    names = [
        item["name"] for item in api.get("/auth/tokens", token=logged_in["access_token"]).json()["tokens"]
    ]
    assert names == ["fault"]


def test_tokens_come_back_from_postgres_after_redis_loses_everything(api, stack, admin_token, logged_in):
    alive, revoked = create(api, logged_in["access_token"]), create(api, logged_in["access_token"])
    response = api.request(
        "DELETE", f"/auth/tokens/{revoked['id']}", headers=bearer(logged_in["access_token"])
    )
    assert response.status_code == 204
    disabled = api.create_user()
    disabled_token = create(api, api.login(disabled["username"], disabled["password"])["access_token"])
    assert api.post(f"/auth/users/{disabled['username']}/disable", token=admin_token).status_code == 204
    stack.run("redis-cli", "FLUSHALL")
    assert api.me(alive["token"]).status_code in (200, 503)
    wait_for_status(lambda: api.me(alive["token"]), 200, timeout=10)
    assert_error(api.me(revoked["token"]), 401, "invalid_token")
    assert_error(api.me(disabled_token["token"]), 401, "invalid_token")
