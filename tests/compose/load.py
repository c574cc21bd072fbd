"""Steady load through nginx while replicas are added, removed or replaced.

Runs until STOP_FILE exists (or --max-seconds pass), then prints one JSON line:
how many requests were sent, how many failed (anything but the expected
status, or no answer at all) and the first few failures. Exits 1 on any
failure, so a shell script can use it as a check. Standard library only: it
runs with whatever python3 the host has.

    python3 load.py --url http://127.0.0.1:8080/api/v1/me --token T --stop-file F
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def worker(args, stop: threading.Event, results: dict, lock: threading.Lock) -> None:
    """Send requests one after another on a keep-alive connection until told to stop."""
    url = urllib.parse.urlsplit(args.url)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    connection = None
    while not stop.is_set():
        started = time.monotonic()
        outcome = None
        try:
            if connection is None:
                connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
            connection.request("GET", url.path or "/", headers=headers)
            response = connection.getresponse()
            response.read()
            outcome = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            outcome = f"{type(error).__name__}: {error}"
            if connection is not None:
                connection.close()
            connection = None
        with lock:
            results["sent"] += 1
            if outcome != args.expect:
                results["failed"] += 1
                if len(results["failures"]) < 10:
                    results["failures"].append([round(time.time(), 3), str(outcome)])
        pause = args.interval - (time.monotonic() - started)
        if pause > 0:
            stop.wait(pause)


def main() -> int:
    """Run the load, print the summary, exit 1 if any request failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between one client's requests")
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()

    results = {"sent": 0, "failed": 0, "failures": []}
    lock = threading.Lock()
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(args, stop, results, lock)) for _ in range(args.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while not os.path.exists(args.stop_file) and time.monotonic() - started < args.max_seconds:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    results["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(results), flush=True)
    return 1 if results["failed"] or not results["sent"] else 0


if __name__ == "__main__":
    sys.exit(main())
