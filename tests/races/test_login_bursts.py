"""Login bursts at the release bcrypt cost: a burst is served, a storm is shed with Retry-After.

A password check waits for a bcrypt slot while its expected wait stays under
``PASSWORD_QUEUE_DEADLINE`` (2 s by default) and is answered 429 beyond it
(docs/API.md). At cost 12 one check takes ~0.25 s, so ten logins at once fit
in the deadline on two cores; a hundred do not.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import random_user

PASSWORD = "burst-password-0123"
DEADLINE_SECONDS = 2.0  # PASSWORD_QUEUE_DEADLINE's default, which the burst stack keeps


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


def one_login_seconds(base_url: str, username: str) -> float:
    """How long one login takes on this stack right now (median of three, one at a time)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        response = requests.post(
            base_url + "/auth/login", json={"username": username, "password": PASSWORD}, timeout=60
        )
        assert response.status_code == 200, response.text
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def test_ten_logins_at_once_at_cost_12_are_all_served(burst_stack, burst_users):
    check = one_login_seconds(burst_stack.base_url, burst_users[0])
    responses = logins_at_once(burst_stack.base_url, burst_users)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            continue
        me = requests.get(
            burst_stack.base_url + "/api/v1/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
            timeout=10,
        )
        assert me.status_code == 200
    # Ten checks on two slots are five in a row: within the 2 s deadline while
    # one takes <= 0.4 s (cost 12 on an idle core: ~0.25 s). On a machine
    # loaded past that, what fits in the deadline must still be served.
    if 5 * check <= DEADLINE_SECONDS:
        assert statuses == [200] * 10, (check, statuses)
    else:
        assert statuses.count(200) >= min(10, int(DEADLINE_SECONDS / check)), (check, statuses)


def test_a_storm_is_shed_with_429_and_a_retry_after_from_the_queue(burst_stack, burst_users):
    if not burst_stack.own:
        pytest.skip("needs a stack at bcrypt cost 12 (the local runner starts one); BASE_URL's is too fast")
    responses = logins_at_once(burst_stack.base_url, burst_users * 8)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    shed = [r for r in responses if r.status_code == 429]
    assert shed and statuses.count(200) >= 4, statuses
    for response in shed:
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"] == "too_many_requests"
        assert 1 <= int(response.headers["Retry-After"]) <= 30
