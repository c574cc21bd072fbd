"""The load the bench puts on the stack: wrk rounds, logins, raw bcrypt, the login storm.

Every request goes to 127.0.0.1 (the storm's clients use other loopback
source addresses, 127.0.0.x, so nginx sees distinct clients), and every
loop is bounded in time.
"""

import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import requests

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk" / "bench.lua"
WRK_THREADS = 2
# A storm client gives up on a login after this long (and its request is abandoned).
STORM_CLIENT_TIMEOUT = 10


def wrk(base_url: str, path: str, connections: int, seconds: float, token_file: Path | None = None) -> dict:
    """One wrk round; the Lua script's JSON summary plus requests per second."""
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        path,
    ]
    if token_file is not None:
        command.append(str(token_file))
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("{"))
    summary = json.loads(line)
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def signup_users(base_url: str, count: int, password: str) -> list[str]:
    """Create ``count`` users (two at a time: each signup is one bcrypt hash)."""
    stamp = int(time.time())

    def signup(index: int) -> str:
        name = f"bench-{stamp}-{index}"
        body = {"username": name, "email": f"{name}@example.com", "password": password}
        for _ in range(50):
            response = requests.post(base_url + "/auth/signup", json=body, timeout=30)
            if response.status_code != 429:  # the password queue is past its deadline: try again
                break
            time.sleep(0.1)
        response.raise_for_status()
        return name

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(signup, range(count)))


def create_access_tokens(base_url: str, access_tokens: list[str], count: int) -> list[str]:
    """One personal access token for each of the first ``count`` access tokens (distinct users)."""
    made = []
    with requests.Session() as session:
        for access_token in access_tokens[:count]:
            response = session.post(
                base_url + "/auth/tokens",
                json={"name": "bench"},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=30,
            )
            response.raise_for_status()
            made.append(response.json()["token"])
    return made


def login_round(base_url: str, usernames: list[str], password: str, logins: int, concurrency: int) -> dict:
    """``logins`` logins, ``concurrency`` at a time; the rate and the access tokens."""
    local = threading.local()

    def login(index: int) -> tuple[int, str | None]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        body = {"username": usernames[index % len(usernames)], "password": password}
        deadline = time.monotonic() + 30
        while True:
            response = local.session.post(base_url + "/auth/login", json=body, timeout=60)
            # 429: the password queue is past its deadline (or nginx's limit): try again shortly.
            if response.status_code != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        token = response.json().get("access_token") if response.status_code == 200 else None
        return response.status_code, token

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(login, range(logins)))
    elapsed = time.perf_counter() - started
    tokens = [token for status, token in results if status == 200 and token]
    return {"rate": len(tokens) / elapsed, "ok": len(tokens), "tried": logins, "tokens": tokens}


def login_burst(base_url: str, usernames: list[str], password: str) -> dict:
    """One login per username, all released together: each status and how long the slowest took."""
    barrier = threading.Barrier(len(usernames))

    def login(username: str) -> tuple[int, float]:
        with requests.Session() as session:
            barrier.wait(timeout=30)
            started = time.perf_counter()
            body = {"username": username, "password": password}
            response = session.post(base_url + "/auth/login", json=body, timeout=60)
            return response.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(len(usernames)) as pool:
        results = list(pool.map(login, usernames))
    return {"statuses": [status for status, _ in results], "slowest_s": max(s for _, s in results)}


def paired_times(base_url: str, path: str, pairs: list[tuple[dict, dict]], rounds: int = 3) -> dict:
    """How long ``path`` takes for the first and the second body of each pair (medians of each's fastest).

    The two kinds alternate (first, second, second, first...), and each body's
    requests come in separate rounds, so a burst of other work hits both alike;
    the fastest of a body's answers is what the request itself costs.
    """
    first: list[list[float]] = [[] for _ in pairs]
    second: list[list[float]] = [[] for _ in pairs]
    statuses: dict[int, int] = {}
    with requests.Session() as session:
        for _ in range(rounds):
            for index, (a, b) in enumerate(pairs):
                order = [(first[index], a), (second[index], b)]
                for times, body in order if index % 2 else reversed(order):
                    started = time.perf_counter()
                    response = session.post(base_url + path, json=body, timeout=60)
                    times.append(time.perf_counter() - started)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    first_s, second_s = median([min(t) for t in first]), median([min(t) for t in second])
    return {
        "first_ms": first_s * 1000,
        "second_ms": second_s * 1000,
        "difference": abs(first_s - second_s) / max(first_s, second_s),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def bcrypt_round(rounds: int, threads: int, seconds: float) -> dict:
    """Raw ``bcrypt.checkpw`` at ``rounds`` on ``threads`` threads (bcrypt releases the GIL)."""
    password = b"correct horse battery"
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds))
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(index: int) -> None:
        while time.perf_counter() < deadline:
            bcrypt.checkpw(password, hashed)
            counts[index] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return {"rate": sum(counts) / elapsed, "seconds_per_check": elapsed * threads / max(1, sum(counts))}


@dataclass
class StormResult:
    """What the storm's clients saw."""

    offered: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    accepted_latency: list[float] = field(default_factory=list)
    accepted_spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end), monotonic
    rejected_latency: list[float] = field(default_factory=list)
    other_latency: list[float] = field(default_factory=list)
    aborted: int = 0


class LoginStorm:
    """Paced login clients, one per loopback source address, far over login capacity.

    Each client sends at most ``rate_per_client`` logins a second and waits
    for each answer (as a real client does); on stop, requests still waiting
    are abandoned (the sockets closed), as impatient clients do.
    """

    def __init__(self, port: int, usernames: list[str], password: str, clients: int, rate_per_client: float):
        self._port = port
        self._bodies = [json.dumps({"username": name, "password": password}).encode() for name in usernames]
        self._clients = clients
        self._interval = 1.0 / rate_per_client
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._threads: list[threading.Thread] = []
        self.result = StormResult()

    def _client(self, index: int) -> None:
        source = f"127.0.0.{10 + index}"
        body = self._bodies[index % len(self._bodies)]
        headers = {"Content-Type": "application/json"}
        conn = None
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", self._port, timeout=STORM_CLIENT_TIMEOUT, source_address=(source, 0)
                    )
                    with self._lock:
                        self._connections.append(conn)
                conn.request("POST", "/auth/login", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                if self._stop.is_set():
                    with self._lock:
                        self.result.aborted += 1
                    break
                status = 0
            latency = time.perf_counter() - started
            with self._lock:
                self.result.offered += 1
                self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
                if status == 200:
                    self.result.accepted_latency.append(latency)
                    self.result.accepted_spans.append((started, started + latency))
                elif status == 429:
                    self.result.rejected_latency.append(latency)
                else:
                    self.result.other_latency.append(latency)
            self._stop.wait(max(0.0, self._interval - latency))
        if conn is not None:
            conn.close()

    def start(self) -> None:
        """Start every client."""
        for index in range(self._clients):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the clients, abandoning the logins still waiting."""
        self._stop.set()
        with self._lock:
            for conn in self._connections:
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)


def percentile(values: list[float], pct: float) -> float | None:
    """The ``pct`` percentile (nearest rank), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float | None:
    """The median, or None without values."""
    return statistics.median(values) if values else None
