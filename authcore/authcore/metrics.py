"""The Prometheus metrics both services record, and the WSGI layer that times every request.

gunicorn runs several worker processes, so prometheus_client runs in its
multiprocess mode: each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` and the gunicorn master adds them up when
scraped (``authcore.metrics_listener``). That mode is chosen when a value is
first created, so the folder is settled here, before prometheus_client is
imported: the one the process was started with, else a private one.

No label ever carries a user id, username, email or address: labels name
routes, methods, statuses and outcomes, a small fixed set each.
``METRICS_ENABLED=0`` swaps every metric for a no-op (what ``make bench``
compares against). docs/OPERATIONS.md lists every metric.
"""

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, cast

from authcore.settings import read

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from flask import Flask

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENABLED = read(os.environ, "METRICS_ENABLED")


def _settle_multiproc_dir() -> None:
    """Make sure ``PROMETHEUS_MULTIPROC_DIR`` names a folder before prometheus_client loads."""
    if os.environ.get(MULTIPROC_ENV):
        os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)
        return
    # Not set (unit tests, a command run by hand): a folder of this process
    # tree alone, removed when the process that made it exits.
    folder = tempfile.mkdtemp(prefix="authstack-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    creator = os.getpid()

    def remove_folder() -> None:
        # A forked worker inherits the atexit hook; only the creator removes the folder.
        if os.getpid() == creator:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove_folder)


_settle_multiproc_dir()

from prometheus_client import Counter, Gauge, Histogram, values  # noqa: E402  (the folder must be settled first)

if not getattr(values.ValueClass, "_multiprocess", False):
    # Something imported prometheus_client before the folder was settled (a
    # test plugin, say): choose the value class again, or every worker would
    # count on its own and the master would serve nothing.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

PREFIX = "authstack_"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# bcrypt runs for a few milliseconds (cost 4, tests) to ~0.3 s (cost 12).
PASSWORD_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)


class Metric(Protocol):
    """What the code calls on a metric: a Counter, Gauge or Histogram (each uses its own subset)."""

    def labels(self, *labelvalues: str, **labelkwargs: str) -> "Metric":
        """The child metric of these label values."""
        ...

    def inc(self, amount: float = 1) -> None:
        """Add to a counter or gauge."""
        ...

    def dec(self, amount: float = 1) -> None:
        """Subtract from a gauge."""
        ...

    def set(self, value: float) -> None:
        """Set a gauge."""
        ...

    def observe(self, value: float) -> None:
        """Record a histogram sample."""
        ...


class _NoOp:
    """Stands in for a metric when metrics are off: every call does nothing."""

    def labels(self, *labelvalues: str, **labelkwargs: str) -> "_NoOp":
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


def _metric(
    kind: Callable[..., Any], name: str, documentation: str, labels: tuple[str, ...] = (), **kwargs: Any
) -> Metric:
    if not ENABLED:
        return _NoOp()
    # Each prometheus_client class has only its own subset of Metric's methods.
    return cast(Metric, kind(PREFIX + name, documentation, labelnames=labels, **kwargs))


# --- HTTP, both services -------------------------------------------------------
HTTP_REQUESTS = _metric(
    Counter, "http_requests", "Requests answered, by route template, method and status.",
    ("route", "method", "status"),
)  # fmt: skip
HTTP_DURATION = _metric(
    Histogram, "http_request_duration_seconds", "Time to answer a request, by route template and method.",
    ("route", "method"), buckets=LATENCY_BUCKETS,
)  # fmt: skip
HTTP_IN_PROGRESS = _metric(
    Gauge, "http_requests_in_progress", "Requests being answered right now.", multiprocess_mode="livesum"
)

# --- access tokens and the revocation list, both services ----------------------
TOKEN_VERIFICATIONS = _metric(
    Counter, "token_verifications", "Access tokens checked, by result "
    "(ok, expired, bad_signature, revoked, malformed, unknown_kid).", ("result",),
)  # fmt: skip
PAT_CHECKS = _metric(
    Counter, "personal_access_token_checks", "Personal access tokens checked, by result "
    "(ok, expired, unknown, bad_checksum, malformed).", ("result",),
)  # fmt: skip
REVOCATION_CHECK_SECONDS = _metric(
    Histogram, "revocation_check_seconds", "Time of one revocation-list lookup in Redis.",
    buckets=(0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0),
)  # fmt: skip
REVOCATION_FAIL_CLOSED = _metric(
    Counter, "revocation_fail_closed", "Protected requests refused (503) because the revocation list "
    "could not be read or was not ready.",
)  # fmt: skip
REVOCATION_REBUILDS = _metric(
    Counter, "revocation_rebuilds", "Rebuilds of the revocation list from Postgres, by result.", ("result",)
)

# --- auth_service ----------------------------------------------------------------
LOGIN_ATTEMPTS = _metric(
    Counter, "login_attempts", "Logins, by result (success, invalid_credentials, throttled, disabled, "
    "shed, unavailable).", ("result",),
)  # fmt: skip
MFA_LOGINS = _metric(
    Counter, "mfa_logins", "Second login steps, by result (challenged, totp, recovery_code, "
    "invalid_code, invalid_token, throttled, passkey, passkey_login, passkey_failed).", ("result",),
)  # fmt: skip
MFA_CHANGES = _metric(
    Counter, "mfa_changes", "Changes of second factors, by change (enabled, disabled, "
    "recovery_codes_renewed, reset_by_admin, passkey_added, passkey_removed).", ("change",),
)  # fmt: skip
SIGNUPS = _metric(Counter, "signups", "Signups, by result (created, taken).", ("result",))
PASSWORD_HASH_SECONDS = _metric(
    Histogram, "password_hash_seconds", "Time of one bcrypt run, by operation (hash, check).",
    ("operation",), buckets=PASSWORD_BUCKETS,
)  # fmt: skip
PASSWORD_SLOT_WAIT_SECONDS = _metric(
    Histogram, "password_slot_wait_seconds", "Time spent waiting for a password-check slot.",
    buckets=(0.0001, 0.001, 0.01, 0.1, 0.5, 1.0),
)  # fmt: skip
PASSWORD_SLOT_REFUSALS = _metric(
    Counter, "password_slot_refusals", "Password checks refused (429): no slot within the deadline."
)
TOKENS_ISSUED = _metric(
    Counter,
    "tokens_issued",
    "Tokens issued, by kind (access, refresh, oidc: a single sign-on code exchange).",
    ("kind",),
)
REFRESHES = _metric(
    Counter, "refreshes", "Refresh-token uses, by result (rotated, reuse_detected, invalid).", ("result",)
)
SESSIONS_ENDED = _metric(
    Counter, "sessions_ended", "Sessions ended, by reason (logout, logout_all, ended_by_user, "
    "password_change, reuse, disable, mfa_enabled, mfa_reset).", ("reason",),
)  # fmt: skip
AUDIT_EVENTS = _metric(Counter, "audit_events", "Audit events recorded, by action and result.",
                       ("action", "result"))  # fmt: skip
DB_POOL_IN_USE = _metric(
    Gauge, "db_pool_connections_in_use", "Postgres connections lent out by the pools.",
    multiprocess_mode="livesum",
)  # fmt: skip
DB_POOL_WAITING = _metric(
    Gauge, "db_pool_requests_waiting", "Requests waiting for a Postgres connection.",
    multiprocess_mode="livesum",
)  # fmt: skip

# What this thread counted for the request it is answering: a token that
# falls through the /me fast path to Flask is checked twice but counted once.
_this_request = threading.local()


def count_token(result: str, token_key: object) -> None:
    """Count one token verification outcome, once per token and request."""
    if getattr(_this_request, "counted", None) == (token_key, result):
        return
    _this_request.counted = (token_key, result)
    TOKEN_VERIFICATIONS.labels(result=result).inc()


# --- request timing middleware ---------------------------------------------------
# Where a Flask app leaves the matched route template for the middleware.
ROUTE_KEY = "authstack.route"
UNMATCHED = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """WSGI middleware: counts and times every request by route template, method and status.

    It sits outside everything else (the /me fast path included), so
    requests Flask never sees are counted too. The route template comes
    from Flask's matched rule when Flask answered, else from the app's
    routes without variables (the fast path's), else ``unmatched``.
    """

    def __init__(self, app: "WSGIApplication", static_routes: Callable[[], frozenset[str]]):
        self._app = app
        self._static_routes = static_routes
        self._known_static: frozenset[str] | None = None
        # Label lookups take a lock and build a tuple: remember the children.
        self._counters: dict[tuple[str, str, str], Metric] = {}
        self._timers: dict[tuple[str, str], Metric] = {}

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["500"]

        def remembering_start_response(
            status_line: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            status[0] = status_line[:3]
            return start_response(status_line, headers, exc_info)

        _this_request.counted = None
        HTTP_IN_PROGRESS.inc()
        try:
            return self._app(environ, remembering_start_response)
        finally:
            HTTP_IN_PROGRESS.dec()
            self._record(environ, status[0], time.perf_counter() - started)

    def _record(self, environ: "WSGIEnvironment", status: str, seconds: float) -> None:
        route = environ.get(ROUTE_KEY) or self._static_route(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD", "")
        if method not in KNOWN_METHODS:
            method = "other"
        counter = self._counters.get((route, method, status))
        if counter is None:
            counter = self._counters[(route, method, status)] = HTTP_REQUESTS.labels(route, method, status)
        timer = self._timers.get((route, method))
        if timer is None:
            timer = self._timers[(route, method)] = HTTP_DURATION.labels(route, method)
        counter.inc()
        timer.observe(seconds)

    def _static_route(self, path: str) -> str:
        if self._known_static is None:
            self._known_static = self._static_routes()
        return path if path in self._known_static else UNMATCHED


def instrument(app: "Flask") -> None:
    """Time and count every request of the Flask ``app`` (call last in the app factory)."""
    if not ENABLED:
        return
    from flask import request

    @app.before_request
    def _remember_route() -> None:
        if request.url_rule is not None:
            request.environ[ROUTE_KEY] = request.url_rule.rule

    def static_routes() -> frozenset[str]:
        return frozenset(rule.rule for rule in app.url_map.iter_rules() if not rule.arguments)

    app.wsgi_app = RequestMetrics(app.wsgi_app, static_routes)  # type: ignore[method-assign]  # Flask's documented middleware pattern


def start_sampler(sample: Callable[[], None], every_seconds: float = 2.0) -> None:
    """Call ``sample`` every few seconds in a daemon thread (gauges that are read, not counted)."""
    if not ENABLED:
        return

    def loop() -> None:
        while True:
            # A failed sample (Postgres away) must never stop the thread.
            with contextlib.suppress(Exception):
                sample()
            time.sleep(every_seconds)

    threading.Thread(target=loop, name="metrics-sampler", daemon=True).start()


class PoolStats(Protocol):
    """A connection pool that reports its figures (psycopg_pool's ``ConnectionPool``)."""

    def get_stats(self) -> dict[str, int]:
        """The pool's counters by name (``pool_size``, ``pool_available``, ``requests_waiting``...)."""
        ...


def pool_sampler(pool: PoolStats) -> Callable[[], None]:
    """A sampler that copies a psycopg pool's connection figures into the pool gauges."""

    def sample() -> None:
        stats = pool.get_stats()
        DB_POOL_IN_USE.set(stats.get("pool_size", 0) - stats.get("pool_available", 0))
        DB_POOL_WAITING.set(stats.get("requests_waiting", 0))

    return sample
