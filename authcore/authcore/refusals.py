"""Refused authorisations of a service without an audit table (api_service): one log line each.

auth_service writes ``authz_fail`` into its audit table; api_service has no
database, so the same event becomes a warning on the ``audit`` logger, with
the caller's id (never a token) and the route.
"""

import logging

from flask import Flask, Response, g, request

log = logging.getLogger("audit")


def log_refused_authorisations(app: Flask) -> None:
    """Log every 403 given to a valid token that lacks the route's role."""

    @app.after_request
    def _log_refusal(response: Response) -> Response:
        claims = g.get("claims")
        if response.status_code == 403 and claims is not None:
            route = request.url_rule.rule if request.url_rule else ""
            log.warning(
                "authz_fail",
                extra={
                    "fields": {
                        "action": "authz_fail",
                        "result": "failure",
                        "actor_id": claims.user_id,
                        "method": request.method,
                        "route": route,
                        "client_ip": request.remote_addr or "",
                    }
                },
            )
        return response
