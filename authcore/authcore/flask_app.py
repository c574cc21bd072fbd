"""The Flask app both services start from: logging, request ids, errors, limits."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from authcore.errors import register_error_handlers
from authcore.request_id import configure_logging, init_request_id

# Flask would buffer any size; nginx already caps bodies at 16 KiB.
MAX_BODY_BYTES = 64 * 1024


def base_app(
    import_name: str,
    log_level: str,
    unavailable_errors: tuple[type[Exception], ...],
    refused_errors: tuple[type[Exception], ...] = (),
) -> Flask:
    """A Flask app with the stack's shared behaviour; the service adds its routes."""
    # "auth_app.app" -> "auth_service": the name the logs and metrics use.
    configure_logging(log_level, import_name.split(".")[0].replace("_app", "_service"))
    app = Flask(import_name)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    # No browser calls these APIs cross-origin (no CORS), so an automatic
    # OPTIONS answer would only be an undocumented 200: let it be a 405.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    # Werkzeug answers "//" in a path with a redirect built from the client's
    # Host header (and an HTML body): an odd path is simply not a route here.
    app.url_map.merge_slashes = False
    # Exactly one proxy (nginx) stands in front: trust its X-Forwarded-For hop only.
    # Flask documents wrapping wsgi_app this way; its stubs declare it a method.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0)  # type: ignore[method-assign]
    init_request_id(app)
    register_error_handlers(app, unavailable_errors, refused_errors)
    return app
