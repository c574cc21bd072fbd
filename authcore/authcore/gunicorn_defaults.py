"""gunicorn settings both services start from (each service's gunicorn.conf.py imports them).

Timeouts are ordered outside-in: nginx gives up on an upstream after 30 s
(answering 504 JSON) before gunicorn's 60 s worker timeout kills a worker,
and gunicorn keeps idle connections open (75 s) longer than nginx's upstream
keepalive (60 s), so nginx never reuses a connection gunicorn just closed.
"""

import os
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import orjson
from gunicorn import glogging, util

from authcore.logging_json import JsonFormatter, read_log_format
from authcore.settings import SettingsError, read

if TYPE_CHECKING:  # gunicorn has no type information: these name what it passes (Any to mypy)
    from gunicorn.arbiter import Arbiter
    from gunicorn.config import Config
    from gunicorn.workers.base import Worker

T = TypeVar("T")

bind: str = read(os.environ, "BIND")
# gthread measured best here: 2 workers x 4 threads, ~3.2k req/s, p99 ~71 ms
# at 64 connections; gevent matched throughput with p99 of 265-860 ms.
worker_class = "gthread"
workers: int = read(os.environ, "WEB_WORKERS")
threads: int = read(os.environ, "WEB_THREADS")
keepalive = 75
timeout = 60
graceful_timeout = 10
accesslog = None  # nginx writes the access log, with the request id
errorlog = "-"
# Never preload: each worker opens its own Postgres pool and Redis client after the fork.
preload_app = False
# supervisord or the container runtime manages the processes; gunicorn 27's
# control socket (created under $HOME) would only be one more thing to secure.
control_socket_disable = True
# nginx's limits (8 KiB per header line, 32 KiB in all) are the only size
# gate; gunicorn's tighter defaults (4094-byte request line, 100 headers)
# let requests through nginx that gunicorn then refused with an HTML page.
limit_request_line = 8190
limit_request_field_size = 16384
limit_request_fields = 32768


def _json_write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """What gunicorn sends for a request it can't parse: our JSON error shape, not HTML.

    gunicorn has no setting for this page; its workers call
    ``gunicorn.util.write_error``, so replacing that function is the hook.
    """
    code = "headers_too_large" if status_int in (414, 431) else "bad_request"
    body = orjson.dumps({"error": code, "message": "The request could not be understood."})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _json_write_error


class JsonAwareLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn is untyped (Any)
    """gunicorn's own logger; with ``LOG_FORMAT=json`` its lines are JSON objects too.

    Not ``logconfig_dict``: setting that turns gunicorn's access log on, whose
    line is built for every request (nginx writes the access log).
    """

    def setup(self, cfg: "Config") -> None:
        """gunicorn's set-up, then the JSON formatter on its error log's handlers."""
        super().setup(cfg)
        try:
            log_format = read_log_format()
        except SettingsError:
            return  # on_starting refuses the setting with a clear line
        if log_format == "json":
            # "auth_app:create_app()" -> "auth_service", as the app's own lines say.
            app_name = cfg.wsgi_app or cfg.default_proc_name
            service = app_name.split(":")[0].split(".")[0].replace("_app", "_service")
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter(service))


logger_class = JsonAwareLogger


def exit_on_bad_settings(load_settings: Callable[[], T]) -> T:
    """Validate settings in the gunicorn master, before any worker starts; return them.

    A missing or weak secret then stops the service at once with one clear
    line (naming the setting, never its value) and a non-zero exit, instead
    of workers failing to boot over and over.
    """
    try:
        return load_settings()
    except SettingsError as exc:
        refuse_to_start(str(exc))


def refuse_to_start(reason: str) -> NoReturn:
    """Print why on one line and stop the gunicorn master with exit code 1."""
    print(f"refusing to start: {reason}", file=sys.stderr, flush=True)
    sys.exit(1)


def child_exit(server: "Arbiter", worker: "Worker") -> None:
    """A worker exited: its live gauges (requests in progress, pool use) no longer count."""
    from authcore.metrics_listener import mark_worker_dead

    mark_worker_dead(worker.pid)
