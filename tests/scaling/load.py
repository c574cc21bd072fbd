"""What the scaling and rollout tests share: a steady load, and the replicas the stack runs.

The stack's control command (``STACK_CONTROL``) scales a part (``scale S N``,
returning once every replica is healthy), lists the healthy replicas of a
part (``tasks S``: one id a line) and counts, from nginx's access log, the
requests each replica answered since a moment (``replica-hits S SINCE``:
one ``name count`` line per replica).
"""

import threading
import time

import requests

# nginx asks the orchestrator's DNS again every 2 s; a new replica must get
# traffic well within this bound (a liveness bound, not a speed figure).
REPLICAS_REACHED_WITHIN_SECONDS = 60
# How long a control command that starts or replaces replicas may take: an
# image's start and its health checks on a busy machine (a liveness bound).
SCALE_SECONDS = 300


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


def healthy_tasks(stack, service: str) -> list[str]:
    """The ids of the healthy running replicas of ``service``."""
    return stack.run("tasks", service).split()


def wait_until_every_replica_gets_traffic(stack, service: str, count: int) -> dict[str, int]:
    """Wait until nginx sent requests to each of ``count`` replicas of ``service``; their hits."""
    since = int(time.time())
    deadline = time.monotonic() + REPLICAS_REACHED_WITHIN_SECONDS
    while True:
        time.sleep(2)
        hits = replica_hits(stack, service, since)
        if len(hits) == count and all(hits.values()):
            return hits
        assert time.monotonic() < deadline, f"nginx did not reach every replica of {service}: {hits}"
