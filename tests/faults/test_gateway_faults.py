"""Gateway mode when a part is down: Redis (503, fail closed) and the upstream (502), JSON always."""

import pytest

from tests.faults.conftest import wait_for_status
from tests.helpers import GATEWAY_PATH, assert_error, bearer, gateway_login

pytestmark = pytest.mark.slow


def test_redis_down_the_gateway_fails_closed_with_503(api, stack, admin_token):
    token = gateway_login(api, admin_token)["access_token"]
    assert api.get(GATEWAY_PATH, token=token).status_code == 200
    stack.run("stop", "redis")
    try:
        response = wait_for_status(lambda: api.get(GATEWAY_PATH, token=token), 503)
        assert_error(response, 503, "unavailable")
        assert response.headers["Retry-After"]
    finally:
        stack.run("start", "redis")
    stack.wait_healthy()
    wait_for_status(lambda: api.get(GATEWAY_PATH, token=token), 200, timeout=30)


def test_upstream_down_is_502_json_and_back_when_it_returns(api, stack, admin_token):
    token = gateway_login(api, admin_token)["access_token"]
    stack.run("stop", "whoami")
    try:
        response = wait_for_status(lambda: api.get(GATEWAY_PATH, token=token), 502, timeout=30)
        assert_error(response, 502, "bad_gateway")
        # Authentication still comes first: no token is 401, not 502.
        assert_error(api.get(GATEWAY_PATH), 401, "missing_token")
    finally:
        stack.run("start", "whoami")
    wait_for_status(lambda: api.get(GATEWAY_PATH, headers=bearer(token)), 200, timeout=30)
