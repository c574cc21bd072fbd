"""Log records as one JSON object per line (``LOG_FORMAT=json``) or as plain text (``text``).

A JSON line carries ``time`` (UTC, ISO 8601), ``level``, ``service``,
``logger``, ``request_id``, ``message`` and ``fields``: whatever a caller
passed as ``extra={"fields": {...}}``. Nothing here decides what is logged;
callers never pass a token, password or secret.
"""

import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from authcore.settings import read

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def read_log_format(env: Mapping[str, str] | None = None) -> str:
    """``LOG_FORMAT`` (json or text, default text); raises ``SettingsError`` otherwise."""
    log_format: str = read(os.environ if env is None else env, "LOG_FORMAT")
    return log_format


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def __init__(self, service: str):
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line (a traceback goes in ``fields.exception``)."""
        fields = dict(getattr(record, "fields", None) or {})
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            "fields": fields,
        }
        return orjson.dumps(line, default=str).decode("utf-8")


def make_formatter(log_format: str, service: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT``."""
    return JsonFormatter(service) if log_format == "json" else logging.Formatter(TEXT_FORMAT)
