"""The local stack (no Docker): an old commit's `make up` on a fresh STATE_DIR, then today's on the same.

The old stack is started by the old checkout's own runner (``python -m
runner up`` there: it writes its .env with fresh secrets, initdb's its
cluster, applies its migrations), seeded through nginx, and stopped. Today's
runner then starts on the same STATE_DIR and the same .env, converting and
migrating in place, and the seeded data is checked through nginx.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from runner.settings import ROOT, free_port
from tests.upgrade import scenario
from tests.upgrade.old_checkout import OldCheckout


def _environment(state_dir: Path, http_port: int) -> dict[str, str]:
    """What both runners start with: the same STATE_DIR and port; the secrets come from the .env."""
    return {
        "PATH": "/usr/sbin:" + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "STATE_DIR": str(state_dir),
        "HTTP_PORT": str(http_port),
        # Fast bcrypt and room for the scenario's burst of logins; the same in both versions.
        "BCRYPT_ROUNDS": "4",
        "AUTH_RATE_LIMIT": "200r/s",
    }


def _mail_reader(old: OldCheckout, env: dict[str, str]) -> Callable[[str], list[dict[str, str]]]:
    def read(address: str) -> list[dict[str, str]]:
        shown = old.run(
            ["-m", "runner", "mail", "--to", address, "--format", "json", "--last", "20"], env, 60
        )
        if shown.returncode != 0:
            raise AssertionError(f"the old runner's mail command failed: {shown.stderr}")
        messages: list[dict[str, str]] = json.loads(shown.stdout or "[]")
        return messages

    return read


def _today(env_file: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.upgrade.todays_stack", str(env_file), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _step(label: str, started: float) -> None:
    print(f"  {label} ({time.monotonic() - started:.0f} s)", flush=True)


def run(old: OldCheckout, work: Path) -> list[str]:
    """Old stack, seed, stop; today's stack on the same STATE_DIR and .env, verify. The failures."""
    state_dir = work / "state-local"
    env = _environment(state_dir, free_port())
    env_file = old.path / ".env"
    started = time.monotonic()
    old_up = old.run(["-m", "runner", "up"], env)
    if old_up.returncode != 0:
        old.run(["-m", "runner", "down"], env)
        return [f"the old stack ({old.commit}) did not start:\n{old_up.stdout}{old_up.stderr}"]
    _step(f"old stack {old.commit} up on {state_dir}", started)
    base_url = f"http://127.0.0.1:{env['HTTP_PORT']}"
    try:
        mails = (old.path / "auth_service" / "auth_app" / "password_reset.py").exists()
        seeded = scenario.seed(base_url, _mail_reader(old, env) if mails else None)
    except AssertionError as exc:
        return [f"seeding the old stack failed: {exc}"]
    finally:
        old_down = old.run(["-m", "runner", "down"], env)
    if old_down.returncode != 0:
        return [f"the old stack did not stop: {old_down.stdout}{old_down.stderr}"]
    reset = ", 1 pending reset link" if seeded.reset_token else " (no reset mail in this version)"
    counts = f"{len(seeded.accounts)} accounts, {len(seeded.live_refresh_tokens)} live sessions"
    _step(f"seeded {counts}, 1 logged out{reset}; old stack stopped", started)
    new_up = _today(env_file, ["up"], env)
    if new_up.returncode != 0 and "Address already in use" in new_up.stdout + new_up.stderr:
        # Internal ports are picked free at each start; on a machine other stacks
        # share, another may take one in between. Once more, with fresh ports.
        print("    a port was taken in between: starting today's stack once more", flush=True)
        new_up = _today(env_file, ["up"], env)
    try:
        if new_up.returncode != 0:
            return [f"today's stack did not start on the old STATE_DIR:\n{new_up.stdout}{new_up.stderr}"]
        for line in (new_up.stdout + new_up.stderr).splitlines():
            if "converted" in line or "gave" in line or "applied" in line:
                print(f"    today's runner: {line}", flush=True)
        _step("today's stack up on the same STATE_DIR and .env", started)
        failures = scenario.verify(base_url, seeded)
        _step(f"checked through nginx: {len(failures)} failure(s)", started)
        return failures
    finally:
        _today(env_file, ["down"], env)
        shutil.rmtree(state_dir, ignore_errors=True)
