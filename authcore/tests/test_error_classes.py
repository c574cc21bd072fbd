"""Every error class answers with a status and an ``error`` code that agree, never a 5xx by accident."""

import pytest
import werkzeug.exceptions
from flask import Flask

from authcore import errors
from authcore.errors import ApiError, register_error_handlers

# The one code each status may carry in a body of ours (409 carries its conflict's own).
EXPECTED_CODES = {
    400: {"bad_request", "reserved_header", "invalid_reset_token", "invalid_verification_token"},
    401: {"invalid_credentials", "missing_token", "invalid_token", "invalid_mfa_token", "invalid_mfa_code"},
    403: {"forbidden", "csrf_failed", "email_not_verified", "mfa_required", "reauthentication_required"},
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"username_taken", "email_taken", "conflict"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    422: {"validation_failed"},
    429: {"too_many_requests"},
    500: {"internal_error"},
    503: {"unavailable", "passkeys_unavailable"},
}


def _api_error_classes() -> list[type[ApiError]]:
    found, pending = [], [ApiError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _instance(cls: type[ApiError]) -> ApiError:
    if cls is errors.Conflict:
        return cls("username_taken", "That username is already taken.")
    if cls is errors.TooManyRequests:
        return cls(3)
    try:
        return cls()
    except TypeError:  # a subclass that carries extra context: its status and code are the class's
        error = cls.__new__(cls)
        ApiError.__init__(error)
        return error


def _app_raising(exc: Exception) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app, unavailable_errors=(ConnectionError,))

    @app.get("/boom")
    def boom():
        raise exc

    return app


@pytest.mark.parametrize("cls", _api_error_classes(), ids=lambda cls: cls.__name__)
def test_each_api_error_class_has_a_status_and_code_that_agree(cls):
    response = _app_raising(_instance(cls)).test_client().get("/boom")
    body = response.get_json()
    assert response.status_code in EXPECTED_CODES, response.status_code
    assert body["error"] in EXPECTED_CODES[response.status_code]
    assert body["message"]


WERKZEUG_ERRORS = sorted(
    (
        cls
        for cls in vars(werkzeug.exceptions).values()
        if isinstance(cls, type) and issubclass(cls, werkzeug.exceptions.HTTPException) and cls.code
    ),
    key=lambda cls: cls.code,
)


@pytest.mark.parametrize("cls", WERKZEUG_ERRORS, ids=lambda cls: f"{cls.code}-{cls.__name__}")
def test_each_http_exception_keeps_its_status_with_a_matching_code(cls):
    response = _app_raising(cls()).test_client().get("/boom")
    body = response.get_json()
    assert response.status_code == cls.code
    assert response.mimetype == "application/json"
    if cls.code in EXPECTED_CODES:
        assert body["error"] in EXPECTED_CODES[cls.code]
    else:
        assert body["error"] == errors.http_error_code(cls.code)[0]
    assert body["error"] != "bad_request" or cls.code == 400


def test_an_unexpected_exception_is_a_500_internal_error_without_details():
    response = _app_raising(KeyError("secret detail")).test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_error", "message": "An unexpected error occurred."}


def test_a_dependency_error_is_a_503_unavailable():
    response = _app_raising(ConnectionError("down")).test_client().get("/boom")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
