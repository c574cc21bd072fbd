"""``python -m bench.profile [seconds]``: where an api_service worker spends /api/v1/me.

Starts the bench stack, drives /api/v1/me with wrk at 64 connections and
samples every api_service worker with py-spy meanwhile; prints the
functions by share of samples (inclusive and self), so a change to the
hot path is made where the time goes. The raw folded stacks stay in the
bench state folder for flame-graph tools.
"""

import collections
import os
import subprocess
import sys
import threading
import time

from bench import load, procs
from bench.stack import start_stack, stop_stack
from runner import supervisor
from runner.processes import descendants, stat_fields
from runner.settings import ROOT

PASSWORD = "bench-password-0123"  # noqa: S105 (a throw-away user's password)


def summarise(folded_files: list, top: int = 30) -> str:
    """Inclusive and self shares per function from py-spy's folded ('raw') output."""
    inclusive, own = collections.Counter(), collections.Counter()
    total = 0
    for path in folded_files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            samples = int(count)
            frames = [frame.split(" (")[0] + " (" + frame.split(" (")[-1] for frame in stack.split(";")]
            frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
            if not frames:
                continue
            total += samples
            for frame in set(frames):
                inclusive[frame] += samples
            own[frames[-1]] += samples
    lines = [f"{total} samples", "", "inclusive  self   function"]
    for frame, samples in inclusive.most_common(top):
        lines.append(f"{100 * samples / total:8.1f}% {100 * own[frame] / total:5.1f}%  {frame}")
    lines += ["", "top self time"]
    for frame, samples in own.most_common(15):
        lines.append(f"{100 * samples / total:8.1f}%  {frame}")
    return "\n".join(lines)


def main(seconds: int) -> int:
    """Profile the api_service workers under load."""
    os.environ.setdefault("BENCH_BCRYPT_ROUNDS", "4")  # the profile is about /me, not bcrypt
    stack = start_stack()
    try:
        users = load.signup_users(stack.base_url, 4, PASSWORD)
        tokens = load.login_round(stack.base_url, users, PASSWORD, 32, 4)["tokens"]
        token_file = stack.path("bench-tokens.txt")
        token_file.write_text("\n".join(tokens) + "\n")
        api_dir = ROOT / "api_service"
        pids = procs.pids_in_dir(descendants(supervisor.supervisord_pid(stack)), api_dir)
        workers = [pid for pid in pids if int(stat_fields(pid)[1]) in pids]
        load.wrk(stack.base_url, "/api/v1/me", 16, 2, token_file)
        outputs = [stack.path(f"py-spy-{pid}.folded") for pid in workers]
        spies = [
            subprocess.Popen(
                [
                    str(supervisor.VENV_BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                    "--gil",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, out in zip(workers, outputs, strict=True)
        ]
        time.sleep(0.5)
        result = {}
        driver = threading.Thread(
            target=lambda: result.update(load.wrk(stack.base_url, "/api/v1/me", 64, seconds, token_file))
        )
        driver.start()
        driver.join()
        for spy in spies:
            spy.wait(timeout=seconds + 30)
        print(f"/api/v1/me under wrk c64: {result.get('rps', 0):.0f} req/s while profiled")
        print(summarise([out for out in outputs if out.exists()]))
        print(f"\nfolded stacks: {', '.join(str(out) for out in outputs)}")
    finally:
        stop_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8))
