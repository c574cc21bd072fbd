"""Only nginx can be reached by a client: nobody else can choose the address a session records.

A client that could talk to auth_service directly could send its own
X-Forwarded-For, which the service trusts from nginx, and choose the address
that is logged, throttled and listed in GET /auth/sessions. Locally the
services listen on unix sockets in a folder only nginx's workers may open;
in compose only nginx is on the network clients are on. The probe runs
where a client is (an unprivileged user here; the tests container there).
"""

import ipaddress
import json

FORGED = "203.0.113.77"

# Standard library only: it runs with the system Python as an outsider.
CLIENT_PROBE = """
import http.client, json, socket, sys
address, body, forged = sys.argv[1], sys.argv[2], sys.argv[3]

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)

try:
    if address.startswith("unix:"):
        conn = UnixConnection(address[len("unix:"):])
    else:
        host, port = address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {"Content-Type": "application/json", "X-Forwarded-For": sys.argv[3]}
    conn.request("POST", "/auth/login", body=body, headers=headers)
    print(json.dumps({"reached": True, "status": conn.getresponse().status}))
except OSError as exc:
    print(json.dumps({"reached": False, "error": type(exc).__name__}))
"""


def test_a_client_cannot_reach_auth_service_and_forge_its_address(api, new_user, privileges):
    address = privileges.run("service-address", "auth_service").stdout.strip()
    credentials = json.dumps({"username": new_user["username"], "password": new_user["password"]})
    probe = privileges.run("client-exec", "python3", "-c", CLIENT_PROBE, address, credentials, FORGED)
    outcome = json.loads(probe.stdout.strip().splitlines()[-1])
    assert outcome["reached"] is False, outcome

    # And through nginx, the header changes nothing either: every session
    # this user has records the address nginx saw.
    tokens = api.login(new_user["username"], new_user["password"])
    api.post(
        "/auth/login",
        {"username": new_user["username"], "password": new_user["password"]},
        headers={"X-Forwarded-For": FORGED},
    )
    sessions = api.get("/auth/sessions", token=tokens["access_token"]).json()["sessions"]
    assert len(sessions) == 2
    assert {ipaddress.ip_address(s["ip"]) for s in sessions} != {ipaddress.ip_address(FORGED)}
    assert all(s["ip"] != FORGED for s in sessions), sessions
