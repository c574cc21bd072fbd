"""The Python ceilings: what gunicorn + nginx cost before any application code runs.

``/bench/wsgi``  a plain WSGI callable that answers ``{}``: the most any
                 Python endpoint behind the same gunicorn and nginx could do.
``/bench/flask`` a Flask route answering a small JSON object with orjson:
                 the framework's share, without token verification.
Bench-only: never part of the stack.
"""

import orjson
from flask import Flask, Response

_BODY = b"{}"
_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]

flask_app = Flask(__name__)


@flask_app.get("/bench/flask")
def flask_ceiling():
    """A trivial JSON route, serialised the way the stack serialises."""
    return Response(orjson.dumps({"status": "ok"}), mimetype="application/json")


def app(environ, start_response):
    """Answer ``/bench/wsgi`` directly; hand everything else to the Flask app."""
    if environ.get("PATH_INFO") == "/bench/wsgi":
        start_response("200 OK", _HEADERS)
        return [_BODY]
    return flask_app(environ, start_response)
