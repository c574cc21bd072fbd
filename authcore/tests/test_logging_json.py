"""LOG_FORMAT: one JSON object per line, or text."""

import json
import logging
import sys

import pytest

from authcore.logging_json import JsonFormatter, read_log_format
from authcore.settings import SettingsError


def _record(message: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("auth_app.sessions", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_is_one_json_line_with_every_field():
    record = _record("pruned %d rows", 3, request_id="abc-123", fields={"table": "sessions\nx"})
    line = JsonFormatter("auth_service").format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert set(body) == {"time", "level", "service", "logger", "request_id", "message", "fields"}
    assert body["message"] == "pruned 3 rows"
    assert body["level"] == "WARNING" and body["service"] == "auth_service"
    assert body["logger"] == "auth_app.sessions" and body["request_id"] == "abc-123"
    assert body["fields"] == {"table": "sessions\nx"}
    assert body["time"].endswith("+00:00")


def test_a_traceback_stays_on_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter("api_service").format(record)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["fields"]["exception"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("", "text"), ("json", "json"), (" JSON ", "json"), ("text", "text")]
)
def test_log_format_is_read(raw, expected):
    assert read_log_format({"LOG_FORMAT": raw}) == expected


def test_an_unknown_log_format_is_refused():
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        read_log_format({"LOG_FORMAT": "xml"})
