"""whoami: the demonstration upstream of gateway mode, a stand-in for your own service.

Answers every request with a JSON object describing it: the method, the
path (as received, query included) and the headers (names lower-cased), so
you can see what the gateway passes on, e.g. the X-Auth-* identity. No
authentication of its own: it trusts the gateway in front of it, as any
service behind the stack does. Python's standard library only.

    BIND=127.0.0.1:8001 python whoami.py      (default 0.0.0.0:8000)
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY_BYTES = 64 * 1024


class WhoamiHandler(BaseHTTPRequestHandler):
    """One request in, its description out."""

    protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream keepalive expects
    server_version = "whoami"
    sys_version = ""

    def describe(self) -> None:
        """Answer with the request's method, path and headers as JSON."""
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.answer(400, {"error": "bad_request", "message": "Unreadable or too large body."})
            self.close_connection = True
            return
        self.rfile.read(int(length))
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.answer(200, {"method": self.command, "path": self.path, "headers": headers})

    def answer(self, status: int, body: dict) -> None:
        """Send ``body`` as JSON (no body for HEAD)."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = describe

    def log_message(self, format, *args):
        """No access log: nginx writes one, with the request id."""


def main() -> None:
    """Serve until stopped."""
    host, _, port = os.environ.get("BIND", "0.0.0.0:8000").rpartition(":")
    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), WhoamiHandler)  # noqa: S104
    server.daemon_threads = True
    print(f"whoami listening on {host}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
