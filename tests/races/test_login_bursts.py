"""Login bursts at the release bcrypt cost: answered cleanly, a storm shed with Retry-After.

A password check waits for a bcrypt slot while its expected wait stays under
``PASSWORD_QUEUE_DEADLINE`` (2 s by default) and is answered 429 beyond it
(docs/API.md). At cost 12 one check takes ~0.25 s on an idle core, so ten
logins at once fit in the deadline on two cores; a hundred do not. These
tests assert only what holds however busy the machine is; the figures (ten
at once all served) are `make bench`'s.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import random_user

PASSWORD = "burst-password-0123"


def signup_users(base_url: str, count: int) -> list[str]:
    """``count`` users with one password (two signups at a time: each is one bcrypt)."""

    def signup(_: int) -> str:
        fields = {**random_user(), "password": PASSWORD}
        for _ in range(50):
            response = requests.post(base_url + "/auth/signup", json=fields, timeout=30)
            if response.status_code != 429:
                break
            time.sleep(float(response.headers["Retry-After"]))
        assert response.status_code == 201, response.text
        return response.json()["username"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(signup, range(count)))


def logins_at_once(base_url: str, usernames: list[str]) -> list[requests.Response]:
    """One login per username, all released together."""
    barrier = threading.Barrier(len(usernames))

    def login(username: str) -> requests.Response:
        with requests.Session() as session:
            barrier.wait()
            body = {"username": username, "password": PASSWORD}
            return session.post(base_url + "/auth/login", json=body, timeout=60)

    with ThreadPoolExecutor(len(usernames)) as pool:
        return list(pool.map(login, usernames))


@pytest.fixture(scope="module")
def burst_users(burst_stack):
    return signup_users(burst_stack.base_url, 10)


def assert_refused_with_retry_after(response: requests.Response) -> None:
    """A 429 from the password queue: the JSON error and a Retry-After of at least a second."""
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    assert response.json()["error"] == "too_many_requests", response.text
    assert int(response.headers["Retry-After"]) >= 1, response.headers


def test_ten_logins_at_once_at_cost_12_are_served_or_refused_cleanly(burst_stack, burst_users):
    """What holds under any load: each answer is a login or a clean 429, never a 5xx.

    How many of the ten are served depends on how fast this machine is right
    now (ten checks on two slots must fit the 2 s deadline), so that figure
    is `make bench`'s row "10 logins at once at cost 12: all served", not an
    assertion here. The first checks find the queue empty, so some are served.
    """
    responses = logins_at_once(burst_stack.base_url, burst_users)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses, statuses
    for response in responses:
        if response.status_code == 429:
            assert_refused_with_retry_after(response)
            continue
        me = requests.get(
            burst_stack.base_url + "/api/v1/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
            timeout=10,
        )
        assert me.status_code == 200, me.text


def test_a_storm_is_shed_with_429_and_a_retry_after_from_the_queue(burst_stack, burst_users):
    if not burst_stack.own:
        pytest.skip("needs a stack at bcrypt cost 12 (the local runner starts one); BASE_URL's is too fast")
    responses = logins_at_once(burst_stack.base_url, burst_users * 8)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    # Eighty checks of cost 12 on two slots are forty in a row: far past the
    # 2 s deadline on any machine (a busier one only sheds more), so some are
    # shed. How many are served depends on the machine's speed: not asserted.
    shed = [r for r in responses if r.status_code == 429]
    assert shed, statuses
    for response in shed:
        assert_refused_with_retry_after(response)
