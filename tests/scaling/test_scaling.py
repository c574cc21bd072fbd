"""Replicas come and go under steady load: nginx follows them by itself and no request fails.

The stack's control command scales a part (``scale S N``, waiting until
every replica is healthy) and counts, from nginx's access log, the requests
each replica of a part answered since a moment (``replica-hits S SINCE``:
one ``name count`` line per replica). Shared by compose and Swarm.
"""

import threading
import time

import requests

# nginx asks the orchestrator's DNS again every 2 s; a new replica must get
# traffic well within this bound (a liveness bound, not a speed figure).
REPLICAS_REACHED_WITHIN_SECONDS = 60


class SteadyLoad:
    """Requests to one URL, one after another on each of a few connections, until stopped."""

    def __init__(self, url: str, token: str, connections: int = 4):
        self._url, self._token = url, token
        self._stop = threading.Event()
        self.sent, self.failures = 0, []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(connections)]

    def _run(self) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {self._token}"
            deadline = time.monotonic() + 600  # bounded, whatever happens to the test
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    response = session.get(
                        self._url, headers={"Authorization": f"Bearer {self._token}"}, timeout=10
                    )
                    failure = (
                        None
                        if response.status_code == 200
                        else f"{response.status_code} {response.text[:120]}"
                    )
                except requests.RequestException as exc:
                    failure = f"no answer: {exc}"
                with self._lock:
                    self.sent += 1
                    if failure and len(self.failures) < 20:
                        self.failures.append(failure)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def replica_hits(stack, service: str, since: int) -> dict[str, int]:
    """Requests each replica of ``service`` answered since ``since`` (epoch seconds)."""
    hits = {}
    for line in stack.run("replica-hits", service, str(since)).splitlines():
        name, _, count = line.rpartition(" ")
        hits[name] = int(count)
    return hits


def test_api_replicas_scaled_1_3_1_under_load_get_traffic_and_no_request_fails(
    api, base_url, stack, logged_in
):
    with SteadyLoad(base_url + "/api/v1/me", logged_in["access_token"]) as load:
        stack.run("scale", "api_service", "3")
        since = int(time.time())
        deadline = time.monotonic() + REPLICAS_REACHED_WITHIN_SECONDS
        while True:
            time.sleep(2)
            hits = replica_hits(stack, "api_service", since)
            if len(hits) == 3 and all(hits.values()):
                break
            assert time.monotonic() < deadline, f"nginx did not reach every replica: {hits}"
        stack.run("scale", "api_service", "1")
        time.sleep(5)  # load on the one replica left, past nginx's DNS validity (2 s)
    assert load.sent > 0
    assert not load.failures, (load.sent, load.failures)
