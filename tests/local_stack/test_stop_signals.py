"""`make run | tee run.log`, then Ctrl-C, SIGTERM or a hang-up: no process of the stack is left.

Each test starts ``python -m runner run`` (what `make run` runs) with its
output piped into ``tee``, in a process group of its own as a terminal's
foreground job is, on a throw-away state folder and free ports. Once the
stack is up it sends one signal to the whole group (a terminal sends Ctrl-C
and a hang-up to the foreground group; tee dies with it, so the runner's
stdout is a broken pipe from then on), then checks that every process the
stack had is gone and none names the state folder. Runs only where the
local runner can start a stack (``STACK_CONTROL`` is ``python -m runner``).
Every wait is bounded, generously: a busy machine only makes it slower.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.processes import descendants, stat_fields
from runner.settings import ROOT, throwaway_stack_environment

pytestmark = pytest.mark.slow

START_SECONDS = 240  # a stack starts in ~15 s on an idle machine
STOP_SECONDS = 180  # supervisord stops its programs one by one, each within 20 s


def _local_runner_available() -> bool:
    return os.environ.get("STACK_CONTROL", "").strip().endswith("-m runner")


def _started_at(pid: int) -> str | None:
    """The process's start time (clock ticks since boot): with the pid, names it uniquely."""
    try:
        return stat_fields(pid)[19]
    except (OSError, IndexError):
        return None


def _alive(processes: dict[int, str]) -> dict[int, str]:
    """Those of ``processes`` (pid: start time) still running (and not zombies)."""
    left = {}
    for pid, started in processes.items():
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        if fields[19] == started and fields[0] != "Z":
            left[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    return left


def _naming(state_dir: Path) -> dict[int, str]:
    """Every process whose command line names ``state_dir`` (Postgres, Redis, nginx, supervisord)."""
    found = {}
    needle = str(state_dir).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if needle in cmdline and stat_fields(int(entry))[0] != "Z":
                found[int(entry)] = cmdline.replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
    return found


def _wait_for(condition, seconds: float, what: str):
    give_up = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < give_up, what
        time.sleep(0.2)
    return result


@pytest.fixture
def piped_run(request):
    """Start ``python -m runner run | tee <log>`` as one process group; stop whatever is left after."""
    if not _local_runner_available():
        pytest.skip("needs the local runner (STACK_CONTROL=python -m runner) to start its own stack")
    name = f"stop-{request.node.callspec.id}-{secrets.token_hex(3)}"
    state_dir = ROOT / ".state" / name
    log = ROOT / ".state" / f"{name}.log"
    env = {
        "PATH": "/usr/sbin:" + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **throwaway_stack_environment(state_dir=str(state_dir), key_id="stop1", BCRYPT_ROUNDS="4"),
    }
    # The pipeline a shell makes of `make run | tee run.log`: both in one new
    # process group, the runner's stdout a pipe into tee.
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        process_group=0,
    )
    tee = subprocess.Popen(
        ["tee", str(log)], stdin=runner.stdout, stdout=subprocess.DEVNULL, process_group=runner.pid
    )
    runner.stdout.close()  # tee holds the only read end: when it dies, the pipe is broken
    try:
        yield runner, state_dir, log
    finally:
        for process in (runner, tee):
            if process.poll() is None:
                process.kill()
            process.wait()
        if _naming(state_dir):  # a failed test must not leave a stack behind
            subprocess.run(
                [sys.executable, "-m", "runner", "down"], cwd=ROOT, env=env, check=False, timeout=STOP_SECONDS
            )
        shutil.rmtree(state_dir, ignore_errors=True)
        log.unlink(missing_ok=True)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_piped_make_run_stops_every_process_on(piped_run, signame):
    runner, state_dir, log = piped_run
    _wait_for(
        lambda: runner.poll() is not None or (log.exists() and "stack is up" in log.read_text()),
        START_SECONDS,
        f"the stack did not start; see {log}",
    )
    assert runner.poll() is None, log.read_text()
    supervisord = int((state_dir / "run" / "supervisord.pid").read_text())
    stack = {pid: _started_at(pid) for pid in descendants(supervisord)}
    stack = {pid: started for pid, started in stack.items() if started is not None}
    assert len(stack) >= 8, stack  # supervisord, Postgres, Redis, both gunicorns, nginx...
    assert _naming(state_dir), "no process names the state folder: the check below would prove nothing"

    os.killpg(runner.pid, signal.Signals[signame])  # what a terminal does: the whole group

    runner.wait(timeout=STOP_SECONDS)
    # The command ended: nothing of the stack may outlive it (no waiting for stragglers).
    assert _alive(stack) == {}, _alive(stack)
    assert _naming(state_dir) == {}, _naming(state_dir)
