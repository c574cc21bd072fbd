"""Strict reading of JSON request bodies.

orjson refuses what Python's json module lets through and Postgres can't
store or that crashes Flask: NaN/Infinity, lone surrogates, invalid UTF-8,
and nesting deeper than 1024 levels (Flask's parser raises RecursionError,
a 500, at about 5,000).
"""

from typing import Any

import orjson
from flask import Request

from authcore.errors import BadRequest, UnsupportedMediaType


def read_json_object(request: Request) -> dict[str, Any]:
    """Return the body as a dict; 415 if it isn't JSON, 400 if it isn't an object."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    try:
        body = orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def read_optional_json_object(request: Request) -> dict[str, Any]:
    """Like ``read_json_object``, but no body at all (no type, no bytes) reads as ``{}``.

    For operations whose body the OpenAPI document marks optional: a request
    without one is then judged on its fields (422 for a missing one), not
    answered 415 for a media type it never claimed.
    """
    if request.mimetype == "" and not request.content_length and not request.headers.get("Transfer-Encoding"):
        return {}
    return read_json_object(request)
