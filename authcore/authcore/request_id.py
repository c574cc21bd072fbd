"""Request ids: nginx sets ``X-Request-ID``; every log line carries it."""

import logging
import re

from flask import Flask, g, has_request_context, request

from authcore.logging_json import make_formatter, read_log_format

HEADER = "X-Request-ID"
# nginx only forwards ids of this shape (see the nginx template), but a
# service can be reached directly, so check again before logging one.
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to each log record ('-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: str = "INFO", service: str = "authstack") -> None:
    """Log to stderr, one line per record (JSON or text, as ``LOG_FORMAT`` says), with the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(make_formatter(read_log_format(), service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_request_id(app: Flask) -> None:
    """Remember each request's id for logging (nginx echoes it to the client)."""

    @app.before_request
    def _remember_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _SAFE_ID.fullmatch(incoming) else "-"
