"""Replicas come and go under steady load: nginx follows them by itself and no request fails.

Shared by compose and Swarm (tests/scaling/load.py has the control commands
they use). The part ends with as many replicas as it started with.
"""

import time

import pytest

from tests.scaling.load import SCALE_SECONDS, SteadyLoad, healthy_tasks, wait_until_every_replica_gets_traffic

# Each part under load on a route it answers.
LOADED_ROUTES = {"api_service": "/api/v1/me", "auth_service": "/auth/sessions"}


@pytest.mark.parametrize("service", sorted(LOADED_ROUTES))
def test_replicas_scaled_to_3_then_1_under_load_get_traffic_and_no_request_fails(
    service, base_url, stack, logged_in
):
    with SteadyLoad(base_url + LOADED_ROUTES[service], logged_in["access_token"]) as load:
        started_with = len(healthy_tasks(stack, service))
        stack.run("scale", service, "3", timeout=SCALE_SECONDS)
        wait_until_every_replica_gets_traffic(stack, service, 3)
        stack.run("scale", service, "1", timeout=SCALE_SECONDS)
        time.sleep(5)  # load on the one replica left, past nginx's DNS validity (2 s)
        if started_with != 1:
            stack.run("scale", service, str(started_with), timeout=SCALE_SECONDS)
            wait_until_every_replica_gets_traffic(stack, service, started_with)
    assert load.sent > 0
    assert not load.failures, (load.sent, load.failures)
