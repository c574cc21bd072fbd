"""The bench's own local stack: release settings, plus bench-only pieces beside it.

The stack is started exactly as `make up` starts one (runner.cmd_up), in its
own state folder on free ports. Beside it the bench adds what production
never has: a second nginx ``server`` on another port (rendered from the
stack's own server block, so every directive is the same) with a
``return 200`` location, and three gunicorn programs with the stack's worker
settings: the Python ceilings, the flask-jwt-extended peer, and api_service
itself with every metric a no-op (``METRICS_ENABLED=0``), to price the metrics.
"""

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from authcore.settings import read as read_setting
from runner import __main__ as stack_commands
from runner import supervisor
from runner.nginx_config import write_nginx_config
from runner.settings import (
    ROOT,
    StackSettings,
    free_port,
    load_stack_settings,
    merged_environment,
    throwaway_stack_environment,
)

BENCH_DIR = Path(__file__).resolve().parent
# High enough that nginx never limits the measurements that aren't about limiting.
UNLIMITED_RATE = "100000r/s"
RELEASE_BCRYPT_ROUNDS = "12"


def configured_rate_limit() -> str:
    """The AUTH_RATE_LIMIT a real deployment would run with (environment, .env, default).

    Read before ``start_stack`` replaces it in the environment.
    """
    return merged_environment(create_env_file=False).get("AUTH_RATE_LIMIT") or "5r/s"


def bench_environment() -> dict[str, str]:
    """Release settings on fresh secrets, in the bench's own folder and port."""
    return throwaway_stack_environment(
        state_dir=os.environ.get("BENCH_STATE_DIR", str(ROOT / ".state" / "bench")),
        key_id="bench1",
        BCRYPT_ROUNDS=os.environ.get("BENCH_BCRYPT_ROUNDS", RELEASE_BCRYPT_ROUNDS),
        AUTH_RATE_LIMIT=UNLIMITED_RATE,
        LOG_LEVEL="WARNING",
        # Gateway mode in front of a do-nothing upstream (a bench-only nginx
        # server on this port, see bench_server_config), so the gateway row
        # measures what authenticating costs, not whoami.
        APP_UPSTREAM=f"127.0.0.1:{free_port()}",
        APP_PREFIX="/app/",
    )


def start_stack() -> StackSettings:
    """A fresh stack (an old bench stack is stopped and its folder wiped first)."""
    os.environ.update(bench_environment())
    stack = load_stack_settings(new_ports=True)
    if supervisor.supervisord_pid(stack) is not None:
        stack_commands.cmd_down(stack)
    shutil.rmtree(stack.state_dir, ignore_errors=True)
    stack = load_stack_settings(new_ports=True)
    if stack_commands.cmd_up(stack) != 0:
        raise SystemExit("the bench stack did not start")
    return stack


def stop_stack(stack: StackSettings) -> None:
    """Stop the bench stack; leaves no process."""
    stack_commands.cmd_down(stack)


def reload_nginx(stack: StackSettings) -> None:
    """Make nginx re-read its configuration (graceful, like `nginx -s reload`)."""
    pid = int(stack.path("run", "nginx.pid").read_text().strip())
    os.kill(pid, signal.SIGHUP)
    time.sleep(1.0)  # new workers start, old ones finish their requests


def set_rate_limit(stack: StackSettings, rate: str) -> None:
    """Re-render the stack's nginx config with another AUTH_RATE_LIMIT and reload."""
    write_nginx_config(dataclasses.replace(stack, env={**stack.env, "AUTH_RATE_LIMIT": rate}))
    reload_nginx(stack)


@dataclasses.dataclass
class BenchApps:
    """The bench-only programs and the nginx server in front of them."""

    port: int
    processes: list[subprocess.Popen]

    @property
    def base_url(self) -> str:
        """The bench server's address (the ceilings and the peer)."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the bench-only gunicorns."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def bench_server_config(stack: StackSettings, port: int, upstreams: dict[str, int]) -> str:
    """The stack's own server block on ``port``, with the bench-only locations added.

    Taken from the rendered production config, so the ceilings and the peer
    pass through exactly the same nginx directives as /api/v1/me.
    """
    rendered = stack.path("nginx", "conf.d", "default.conf").read_text()
    server = rendered[rendered.index("\nserver {") + 1 :]
    server, count = re.subn(r"listen [^;]+ default_server;", f"listen 127.0.0.1:{port};", server)
    if count != 1:
        raise RuntimeError("could not find the listen directive in the rendered nginx config")
    locations = (
        "    # Bench-only locations (bench/stack.py); never in the production config.\n"
        "    location = /bench/nginx { return 200 '{}'; }\n"
        "    location /bench/ { proxy_pass http://bench_ceilings; }\n"
        "    location /peer/ { proxy_pass http://bench_peer; }\n"
        "    location /nometrics/ { proxy_pass http://bench_nometrics/api/; }\n"
    )
    server = server.replace("    server_name _;\n", "    server_name _;\n" + locations, 1)
    blocks = [
        f"upstream {name} {{\n    server 127.0.0.1:{upstream_port};\n"
        "    keepalive 32;\n    keepalive_timeout 60s;\n}\n"
        for name, upstream_port in upstreams.items()
    ]
    # The gateway row's upstream: answers at once, whatever it is asked.
    do_nothing = (
        f"server {{\n    listen {stack.env['APP_UPSTREAM']};\n    access_log off;\n"
        "    location / { return 200 '{}'; }\n}\n"
    )
    return "# Bench-only server (bench/stack.py).\n" + "\n".join(blocks) + "\n" + server + "\n" + do_nothing


def _gunicorn(stack: StackSettings, app: str, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    name = app.split(":")[0].rsplit(".", 1)[-1]
    log = stack.path("logs", f"bench-{name}.log").open("ab")
    return subprocess.Popen(
        [str(supervisor.VENV_BIN / "gunicorn"), "-c", str(BENCH_DIR / "gunicorn_bench.conf.py")],
        env={**stack.env, **extra_env, "BIND": f"127.0.0.1:{port}", "BENCH_APP": app},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_bench_apps(stack: StackSettings) -> BenchApps:
    """Start the ceilings and the peer, add the bench server to nginx, wait until they answer."""
    _kid, _, secret = stack.env["JWT_KEYS"].split(",")[0].partition(":")
    ports = {"bench_ceilings": free_port(), "bench_peer": free_port(), "bench_nometrics": free_port()}
    peer_env = {
        "PEER_JWT_SECRET": secret,
        # The stack's own issuer and audience, defaults included (the settings registry's).
        "PEER_JWT_ISSUER": read_setting(stack.env, "JWT_ISSUER"),
        "PEER_JWT_AUDIENCE": read_setting(stack.env, "JWT_AUDIENCE"),
    }
    apps = BenchApps(port=free_port(), processes=[])
    apps.processes.append(_gunicorn(stack, "bench.ceiling_app:app", ports["bench_ceilings"], {}))
    apps.processes.append(_gunicorn(stack, "bench.peer_app:app", ports["bench_peer"], peer_env))
    # api_service as the stack starts it (its Redis user, the other parts'
    # secrets blanked), but with every metric a no-op and no listener of its own.
    nometrics_env = {
        **supervisor.service_overrides(stack, "api_service"),
        "METRICS_ENABLED": "0",
        "METRICS_PORT": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(stack.path("metrics", "bench_nometrics")),
    }
    apps.processes.append(_gunicorn(stack, "api_app:create_app()", ports["bench_nometrics"], nometrics_env))
    conf = stack.path("nginx", "conf.d", "bench.conf")
    conf.write_text(bench_server_config(stack, apps.port, ports))
    reload_nginx(stack)
    deadline = time.monotonic() + 30
    for path in ("/bench/nginx", "/bench/wsgi", "/bench/flask", "/nometrics/healthz"):
        while True:
            try:
                if requests.get(apps.base_url + path, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                apps.stop()
                raise RuntimeError(f"bench app {path} did not answer; see {stack.path('logs')}")
            time.sleep(0.2)
    return apps
