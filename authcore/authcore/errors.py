"""The one JSON error shape of docs/API.md, and the mapping of every failure to it.

``{"error": "<code>", "message": "<text>"}`` plus ``fields`` for validation
errors. ``register_error_handlers`` is the only place a Flask app turns an
exception into a response, so no traceback or HTML page ever leaks.
"""

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "2"


class ApiError(Exception):
    """A failure the client should see, with its status and machine code."""

    status = 400
    code = "bad_request"
    message = "The request could not be understood."

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields
        self.headers = headers or {}


class BadRequest(ApiError):
    """The body is not a JSON object we can read."""


class UnsupportedMediaType(ApiError):
    """The body is not ``application/json``."""

    status, code, message = 415, "unsupported_media_type", "The body must be application/json."


class ValidationFailed(ApiError):
    """The JSON object has missing, empty, wrongly typed or invalid fields."""

    status, code, message = 422, "validation_failed", "Some fields are invalid."


class InvalidCredentials(ApiError):
    """Unknown user or wrong password: one answer for both."""

    status, code, message = 401, "invalid_credentials", "Invalid username or password."


class MissingToken(ApiError):
    """A protected route was called without a bearer token."""

    status, code, message = 401, "missing_token", "A bearer token is required."

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class InvalidTokenError(ApiError):
    """The bearer token is expired, forged, revoked or of the wrong type."""

    status, code, message = 401, "invalid_token", "The token is invalid, expired or revoked."

    def __init__(self, message: str | None = None):
        challenge = 'Bearer realm="api", error="invalid_token"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    """Authenticated, but without the role this route needs."""

    status, code, message = 403, "forbidden", "You lack the role this route requires."


class MfaRequired(ApiError):
    """Authenticated, but the session passed no second factor and this route needs one."""

    status, code = 403, "mfa_required"
    message = "This needs a session signed in with a second factor: log in again with your code."


class NotFound(ApiError):
    """No such route or resource (or not one the caller may know of)."""

    status, code, message = 404, "not_found", "Not found."


class Conflict(ApiError):
    """The resource already exists; ``code`` says which (e.g. ``username_taken``)."""

    status = 409

    def __init__(self, code: str, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message, fields=fields)
        self.code = code


class TooManyRequests(ApiError):
    """Throttled; ``Retry-After`` says when to come back."""

    status, code, message = 429, "too_many_requests", "Too many requests; retry later."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class Unavailable(ApiError):
    """A dependency (Postgres or Redis) can't be reached."""

    status, code, message = 503, "unavailable", "A dependency is unavailable; retry shortly."

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"Retry-After": RETRY_AFTER_SECONDS})


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (an order of magnitude faster than jsonify)."""
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def no_content() -> Response:
    """The empty 204 answer of a route that did what was asked and has nothing to say."""
    return Response(status=204)


def error_response(error: ApiError) -> Response:
    """The JSON response for an ``ApiError``."""
    body: dict[str, object] = {"error": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return json_response(body, error.status, error.headers)


# Werkzeug's HTTP errors that routing itself raises, mapped to our codes.
_HTTP_CODES = {
    401: ("invalid_token", "The token is invalid, expired or revoked."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed on this route."),
    413: ("payload_too_large", "The body is too large."),
    409: ("conflict", "The resource already exists."),
    415: ("unsupported_media_type", "The body must be application/json."),
    422: ("validation_failed", "Some fields are invalid."),
    429: ("too_many_requests", "Too many requests; retry later."),
    500: ("internal_error", "An unexpected error occurred."),
    503: ("unavailable", "A dependency is unavailable; retry shortly."),
}


def http_error_code(status: int) -> tuple[str, str]:
    """The machine code and message of a status without a code of its own.

    Derived from the status's standard name (``418`` → ``im_a_teapot``), so
    the code in a body never disagrees with the status it is sent with.
    """
    name = HTTP_STATUS_CODES.get(status, "Internal Server Error" if status >= 500 else "Bad Request")
    code = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return "_".join(filter(None, code.split("_"))), f"{name}."


def dependency_down(error: Exception) -> Unavailable:
    """Log a dependency that can't be reached (its class only); the 503 to answer with."""
    log.warning("dependency unavailable: %s", type(error).__name__)
    return Unavailable()


def dependency_refused(error: Exception) -> Unavailable:
    """Log a dependency refusing what the service's role may not do; the 503 to answer with.

    The class name only: the driver's message may quote the statement.
    """
    log.error("refused by a dependency (the service's role lacks the right): %s", type(error).__name__)
    return Unavailable()


def register_error_handlers(
    app: Flask,
    unavailable_errors: tuple[type[Exception], ...],
    refused_errors: tuple[type[Exception], ...] = (),
) -> None:
    """Make every failure of ``app`` answer in the one JSON error shape.

    ``unavailable_errors`` are the exception types that mean a dependency is
    down (each service names its own drivers'); they answer 503.
    ``refused_errors`` mean a dependency refused a statement the service's
    role may not run (Postgres's insufficient privilege, a Redis ACL's
    NOPERM): a deployment mistake or an attack, logged as an error and
    answered 503 like an outage. The refused statement changed nothing; a
    transaction it was part of is rolled back.
    """

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code if error.code and 400 <= error.code < 600 else 500
        code, message = _HTTP_CODES.get(status) or http_error_code(status)
        generic = ApiError(message)
        generic.status, generic.code = status, code
        response = error_response(generic)
        # Routing's 405 is a MethodNotAllowed, the one HTTPException with valid_methods.
        if error.code == 405 and isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    def _dependency_down(error: Exception) -> Response:
        return error_response(dependency_down(error))

    for error_type in unavailable_errors:
        app.register_error_handler(error_type, _dependency_down)

    def _refused(error: Exception) -> Response:
        return error_response(dependency_refused(error))

    for error_type in refused_errors:
        app.register_error_handler(error_type, _refused)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        generic = ApiError("An unexpected error occurred.")
        generic.status, generic.code = 500, "internal_error"
        return error_response(generic)
