"""An orchestrator's rollouts under steady load: a new image, a broken one, a killed replica.

Only Swarm rolls a service to a new image, rolls back a failed update by
itself and replaces a dead task with a new one; its driver sets
``STACK_ROLLS=1`` and its control command adds:

- ``update S next|broken``: start updating part S to the next image (the
  same code in a new image) or to one whose process exits at once;
- ``update-state S``: the orchestrator's state of the last update
  (``completed``, ``rollback_completed``, …);
- ``image S``: the image S is declared with; ``task-images S``: the image
  of each running replica, one a line;
- ``signal KILL S``: SIGKILL to one replica of S.

Every request of the steady load must succeed through each of them.
"""

import time

import pytest

from tests.scaling.load import (
    SCALE_SECONDS,
    SteadyLoad,
    healthy_tasks,
    wait_until_every_replica_gets_traffic,
)


def wait_for(stack, condition, what: str, seconds: float = SCALE_SECONDS):
    """Poll ``condition`` every 2 s until it returns something true; return that."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(2)


def update_state(stack, service: str) -> str:
    """The orchestrator's state of the last update of ``service``."""
    return stack.run("update-state", service).strip()


@pytest.fixture
def loads(base_url, logged_in):
    """Steady load on both services for the test's length; asserts no request failed."""
    token = logged_in["access_token"]
    with (
        SteadyLoad(base_url + "/api/v1/me", token) as api,
        SteadyLoad(base_url + "/auth/sessions", token) as auth,
    ):
        time.sleep(2)  # the load runs before the change starts
        yield
        time.sleep(3)  # and after it ends, past nginx's DNS validity (2 s)
    for name, load in (("api", api), ("auth", auth)):
        assert load.sent > 0, name
        assert not load.failures, (name, load.sent, load.failures)


@pytest.mark.parametrize("service", ["auth_service", "api_service"])
def test_rolling_update_to_a_new_image_under_load(service, stack, loads):
    replicas = len(healthy_tasks(stack, service))
    before = stack.run("image", service).strip()
    stack.run("update", service, "next")
    wait_for(stack, lambda: update_state(stack, service) == "completed", f"{service} update completed")
    after = stack.run("image", service).strip()
    assert after != before
    wait_for(
        stack,
        lambda: (
            len(healthy_tasks(stack, service)) == replicas
            and set(stack.run("task-images", service).split()) == {after}
        ),
        f"{replicas} healthy replicas of {service}, every one on {after}",
    )


def test_an_update_to_a_broken_image_is_rolled_back_by_the_orchestrator(stack, loads):
    replicas = len(healthy_tasks(stack, "api_service"))
    before = stack.run("image", "api_service").strip()
    stack.run("update", "api_service", "broken")
    wait_for(
        stack,
        lambda: update_state(stack, "api_service") == "rollback_completed",
        "api_service's broken update rolled back",
    )
    assert stack.run("image", "api_service").strip() == before
    wait_for(
        stack,
        lambda: len(healthy_tasks(stack, "api_service")) == replicas,
        f"{replicas} healthy replicas of api_service",
    )


def test_a_killed_replica_is_replaced_by_a_new_one(stack, loads):
    before = healthy_tasks(stack, "api_service")
    victim = stack.run("signal", "KILL", "api_service").strip()
    assert victim in before
    wait_for(
        stack,
        lambda: (
            (tasks := healthy_tasks(stack, "api_service"))
            and victim not in tasks
            and len(tasks) == len(before)
        ),
        f"{len(before)} healthy replicas of api_service, the killed one not among them",
    )
    wait_until_every_replica_gets_traffic(stack, "api_service", len(before))
