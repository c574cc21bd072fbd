"""How long the current request waited before this process got to it.

nginx stamps every proxied request with ``X-Request-Start: t=<epoch seconds>``
(its ``$msec``, milliseconds kept). The time since then is what the request
spent in nginx, in the socket backlog and in gunicorn's queue of accepted
connections: waits that the password queue must count, or a storm would
queue there unseen.
"""

import time

from flask import has_request_context, request

HEADER = "X-Request-Start"
# A stamp further away than this is not nginx's (a wrong clock, a forged
# header on a direct connection): it is ignored.
PLAUSIBLE_SECONDS = 120.0


def seconds_queued() -> float:
    """Seconds since nginx received the current request; 0 outside a request or without a stamp."""
    if not has_request_context():
        return 0.0
    stamp = request.headers.get(HEADER, "")
    try:
        started = float(stamp.removeprefix("t="))
    except ValueError:
        return 0.0
    waited = time.time() - started
    return waited if 0.0 < waited < PLAUSIBLE_SECONDS else 0.0
