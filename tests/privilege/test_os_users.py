"""Both services run as an unprivileged OS user, in either stack.

The probe runs as the service runs (service-exec) and looks for the
service's own gunicorn processes: those bound where the service listens
(locally), every gunicorn of the container (compose). A gunicorn running as
root would hide its environment from the probe, so the set would be empty:
the test fails then too.
"""

PROBE = """
import json, os, sys
address = sys.argv[1]
uids = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        if not any(arg.endswith(b"gunicorn") for arg in argv[:2]):
            continue
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        continue
    if address.startswith("unix:") and f"BIND={address}".encode() not in environ:
        continue
    uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
    uids.append(uid)
print(json.dumps({"uids": uids}))
"""


def test_services_run_as_an_unprivileged_user(privileges):
    for service in ("auth_service", "api_service"):
        address = privileges.run("service-address", service).stdout.strip()
        uids = privileges.probe("service", service, PROBE, address)["uids"]
        # The master and its workers (2 by default), none of them root.
        assert len(uids) >= 2, (service, uids)
        assert 0 not in uids, (service, uids)
