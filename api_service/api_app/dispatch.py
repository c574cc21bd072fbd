"""Protected ``GET`` routes answered before Flask: the hot path kept thin.

Flask's per-request machinery (request context, routing, hooks, response
object) costs more than authenticating the token does (bench/PERFORMANCE.md).
Views declared with ``@require_token(..., thin=True)`` take only their
claims and return a dict, so a ``GET`` of their fixed path needs none of
it: this WSGI layer looks the path up in a dict, authenticates with the
same ``Authenticator.authenticate_header`` and the same ``RolePolicy`` (and
second-factor rule) as the Flask decorator, calls the view and serialises its dict with orjson.
Errors get the same JSON as Flask's handlers (``authcore.errors``). Every
other request (another method, a path with variables, an unknown path)
goes to Flask unchanged.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

import orjson
import redis
from flask import Flask

from authcore.bearer import Authenticator, ProtectedView, RolePolicy, require_second_factor
from authcore.errors import ApiError, dependency_down, dependency_refused, error_response

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThinRoute:
    """One route the dispatcher answers: its view, the roles it needs, whether it needs a second factor."""

    view: Callable[..., Any]
    policy: RolePolicy
    mfa: bool = False


def thin_routes(app: Flask) -> dict[str, ThinRoute]:
    """The fixed-path ``GET`` routes of ``app`` whose views were declared thin, by path."""
    routes = {}
    for rule in app.url_map.iter_rules():
        wrapper = app.view_functions[rule.endpoint]
        view = getattr(wrapper, "thin_view", None)
        if view is not None and "GET" in (rule.methods or ()) and not rule.arguments:
            # Only require_token sets thin_view: the wrapper is a ProtectedView.
            protected = cast("ProtectedView[...]", wrapper)
            routes[rule.rule] = ThinRoute(view, protected.role_policy, protected.requires_mfa)
    return routes


def internal_error() -> ApiError:
    """The 500 answer, as Flask's last-resort handler gives it."""
    error = ApiError("An unexpected error occurred.")
    error.status, error.code = 500, "internal_error"
    return error


def json_wsgi(start_response: "StartResponse", body: object, status: int = 200) -> list[bytes]:
    """Start a JSON answer and return its one body chunk."""
    data = orjson.dumps(body)
    status_line = "200 OK" if status == 200 else f"{status} {HTTPStatus(status).phrase}"
    start_response(status_line, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class ThinDispatch:
    """WSGI middleware answering the thin routes of a Flask app without Flask."""

    def __init__(
        self, wsgi_app: "WSGIApplication", routes: dict[str, ThinRoute], authenticator: Authenticator
    ):
        self._app = wsgi_app
        self._routes = routes
        self._authenticator = authenticator

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        # No route has the empty path: a missing PATH_INFO goes to Flask as before.
        route = self._routes.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "GET":
            return self._app(environ, start_response)
        try:
            claims = self._authenticator.authenticate_header(environ.get("HTTP_AUTHORIZATION"))
            route.policy.check(claims)
            if route.mfa:
                require_second_factor(claims)
            result = route.view(claims)
        except ApiError as error:
            return error_response(error)(environ, start_response)
        except redis.exceptions.NoPermissionError as exc:
            # The ACL user lacks a right it needs: a deployment mistake, loud in the log.
            return error_response(dependency_refused(exc))(environ, start_response)
        except redis.RedisError as exc:
            return error_response(dependency_down(exc))(environ, start_response)
        except Exception:
            log.exception("unhandled error")
            return error_response(internal_error())(environ, start_response)
        if isinstance(result, tuple):
            body, status = result
            return json_wsgi(start_response, body, status)
        return json_wsgi(start_response, result)
