"""The internal metrics listener, run by the gunicorn master of each service.

The workers write their values to files (``authcore.metrics``); the master
serves them, added up over every worker, on ``METRICS_PORT`` at the host of
``BIND``. That port is never routed by the public nginx. The master also
answers what no worker counts: whether Postgres and Redis answer, whether
the revocation list is ready, and the build. It empties the folder at start
(values of an earlier run must not be added in) and drops the live gauges of
each worker that exits.
"""

import glob
import logging
import os
import platform
from collections.abc import Iterator, Mapping
from importlib import metadata

import redis
from prometheus_client import CollectorRegistry, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

from authcore.metrics import MULTIPROC_ENV, PREFIX
from authcore.revocation import READY_KEY
from authcore.settings import read

log = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 1


def clear_multiproc_dir() -> None:
    """Delete the value files an earlier run left behind."""
    for leftover in glob.glob(os.path.join(os.environ[MULTIPROC_ENV], "*.db")):
        os.remove(leftover)


def mark_worker_dead(pid: int) -> None:
    """Forget the live gauges (requests in progress, pool use) of a worker that exited."""
    # prometheus_client's multiprocess module has no annotations.
    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class MasterCollector:
    """What the master answers itself at each scrape: dependencies, revocation list, build."""

    def __init__(
        self, service: str, redis_url: str, database_url: str | None, redis_password: str | None = None
    ):
        self._service = service
        self._redis_url = redis_url
        self._database_url = database_url
        self._redis_password = redis_password

    def collect(self) -> Iterator[Metric]:
        """Probe the dependencies (each bounded to a second) and yield the gauges."""
        up = GaugeMetricFamily(
            PREFIX + "dependency_up", "1 if the dependency answers.", labels=["dependency"]
        )
        redis_up, ready = self._probe_redis()
        up.add_metric(["redis"], redis_up)
        if self._database_url is not None:
            up.add_metric(["postgres"], self._probe_postgres(self._database_url))
        yield up
        yield GaugeMetricFamily(
            PREFIX + "revocation_list_ready",
            "1 if the revocation list in Redis is complete (its ready marker is there).",
            value=ready,
        )
        info = GaugeMetricFamily(
            PREFIX + "build_info",
            "Always 1; the labels name the build.",
            labels=["service", "version", "python"],
        )
        info.add_metric([self._service, _version(), platform.python_version()], 1)
        yield info

    def _probe_redis(self) -> tuple[int, int]:
        client = redis.Redis.from_url(
            self._redis_url,
            **({"password": self._redis_password} if self._redis_password else {}),
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )
        try:
            return 1, int(client.exists(READY_KEY) == 1)
        except redis.RedisError:
            return 0, 0
        finally:
            client.close()

    def _probe_postgres(self, database_url: str) -> int:
        import psycopg  # only auth_service has a database (and the driver)

        try:
            with psycopg.connect(database_url, connect_timeout=PROBE_TIMEOUT_SECONDS) as conn:
                conn.execute("SELECT 1")
            return 1
        except psycopg.Error:
            return 0


def _version() -> str:
    try:
        return metadata.version("authcore")
    except metadata.PackageNotFoundError:
        return "unknown"


def metrics_port(env: Mapping[str, str] | None = None) -> int:
    """``METRICS_PORT`` (0, the default, means no listener); raises ``SettingsError`` if invalid."""
    port: int = read(os.environ if env is None else env, "METRICS_PORT")
    return port


def start_metrics_listener(
    service: str, redis_url: str, database_url: str | None = None, redis_password: str | None = None
) -> None:
    """Empty the values folder; serve the workers' metrics, added up, on ``METRICS_PORT``.

    Runs in the gunicorn master before any worker starts; the listener is a
    daemon thread of the master, bound to the host of ``BIND``.
    """
    clear_multiproc_dir()
    port = metrics_port()
    if not port:
        return
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated, as above
    registry.register(MasterCollector(service, redis_url, database_url, redis_password))
    bind: str = read(os.environ, "BIND")
    # A service on a unix socket (the local stack) has no host to share: loopback.
    host = "127.0.0.1" if bind.startswith("unix:") else bind.rsplit(":", 1)[0] or "0.0.0.0"  # noqa: S104
    start_http_server(port, addr=host.strip("[]"), registry=registry)
    log.info("metrics on %s:%d", host, port)
