"""A real Prometheus (Debian's package) scraping the throw-away stack.

``METRICS_TARGETS`` (set by `make test`) names each internal metrics
endpoint: ``job=host:port,...``. The fixture writes a configuration with a
one-second scrape and evaluation interval and the shipped alert rules,
starts ``prometheus`` on a free port with a temporary storage folder, waits
until every target answers, and stops it after the module.
"""

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import requests

from tests.stack_env import stack_setting

RULES = Path(__file__).resolve().parents[2] / "observability" / "prometheus" / "alerts.yml"
START_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _targets() -> dict[str, str]:
    raw = stack_setting("METRICS_TARGETS")
    return dict(entry.split("=", 1) for entry in raw.split(","))


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    url: str

    def query(self, expr: str) -> list[dict]:
        """The result vector of an instant PromQL query."""
        response = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def value(self, expr: str) -> float:
        """The single value of ``sum(expr)``-like queries; 0 when the vector is empty."""
        result = self.query(expr)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else 0.0

    def targets(self) -> list[dict]:
        """The active scrape targets with their health."""
        response = requests.get(f"{self.url}/api/v1/targets", timeout=5)
        return response.json()["data"]["activeTargets"]

    def last_scrape_after(self, instant: float, timeout: float = 15) -> None:
        """Wait until every target was scraped after ``instant`` (epoch seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            targets = self.targets()
            if targets and all(t["health"] == "up" and _epoch(t["lastScrape"]) > instant for t in targets):
                return
            time.sleep(0.25)
        raise AssertionError(f"not every target was scraped again: {self.targets()}")


def _epoch(rfc3339: str) -> float:
    # Python 3.11 reads any number of fractional digits (Prometheus gives nanoseconds).
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Prometheus:
    """Prometheus scraping both services and nginx's exporter every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run `make deps` (apt-get install prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in _targets().items()
        ],
    }
    (folder / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            "--storage.tsdb.retention.time=1h",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Prometheus(f"http://127.0.0.1:{port}")
    try:
        _wait_until_scraping(server, process, len(config["scrape_configs"]), folder / "prometheus.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_scraping(server: Prometheus, process: subprocess.Popen, jobs: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            targets = server.targets()
        except requests.RequestException:
            targets = []
        if len(targets) == jobs and all(t["health"] == "up" for t in targets):
            return
        time.sleep(0.25)
    pytest.fail(f"prometheus targets not all up within {START_TIMEOUT} s: {server.targets()}")
