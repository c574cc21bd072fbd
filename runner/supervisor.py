"""supervisord for the local stack: its config, and start/stop/status through it.

Programs inherit supervisord's environment, which is the stack's settings
(docs/OPERATIONS.md names), so the services read exactly what the containers read.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from runner import datastores, oidc_keys, signing_keys
from runner.nginx_config import write_nginx_config
from runner.settings import REDIS_API_USER, ROOT, StackSettings, redis_url

VENV_BIN = Path(sys.executable).parent
# Started by the runner once migrations ran, in this order.
SERVICES_AFTER_MIGRATION = ("auth_service", "api_service", "whoami", "nginx", "nginx_exporter")
METRICS_PORT_NAMES = {"auth_service": "auth_metrics", "api_service": "api_metrics"}


def _program(name: str, command: list[str], stack: StackSettings, **extra: str) -> str:
    lines = [
        f"[program:{name}]",
        "command=" + " ".join(shlex.quote(part) for part in command).replace("%", "%%"),
        "autorestart=true",
        "startsecs=1",
        "startretries=10",
        "stopwaitsecs=20",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={stack.path('logs', name + '.log')}",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=2",
    ]
    lines += [f"{key}={value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


# Secrets each service must not hold (blanked: an empty setting counts as unset).
NOT_FOR = {
    "auth_service": ("MIGRATION_DATABASE_URL", "POSTGRES_MIGRATION_PASSWORD", "REDIS_API_PASSWORD"),
    "api_service": (
        "DATABASE_URL",
        "MIGRATION_DATABASE_URL",
        "POSTGRES_PASSWORD",
        "POSTGRES_MIGRATION_PASSWORD",
        "REDIS_AUTH_PASSWORD",
        "MFA_KEY",
    ),
}


def service_overrides(stack: StackSettings, service: str) -> dict[str, str]:
    """What ``service`` is started with on top of the stack's settings.

    Its own listening socket and Redis user; the other parts' passwords
    (and their ``*_FILE`` forms) blanked out.
    """
    environment = {
        "BIND": f"unix:{datastores.service_socket(stack, service)}",
        "METRICS_PORT": str(stack.ports[METRICS_PORT_NAMES[service]]),
        "PROMETHEUS_MULTIPROC_DIR": str(stack.path("metrics", service)),
    }
    for name in NOT_FOR[service]:
        environment[name] = environment[name + "_FILE"] = ""
    # Under EdDSA/ES256 api_service gets the public keys only (runner/signing_keys.py).
    environment.update(signing_keys.service_environment(stack, service))
    environment.update(oidc_keys.service_environment(stack, service))
    if service == "api_service":
        environment["REDIS_URL"] = redis_url(stack.ports, REDIS_API_USER)
    return environment


def write_config(stack: StackSettings) -> Path:
    """Render supervisord.conf (and the nginx config) into the state folder."""
    for folder in ("run", "logs"):
        stack.path(folder).mkdir(parents=True, exist_ok=True)
    pg_data = datastores.prepare_postgres(stack)
    redis_data = datastores.prepare_redis(stack)
    pg_user, redis_user = datastores.service_user("postgres"), datastores.service_user("redis")
    exporter_user = datastores.service_user("prometheus")
    app_user = datastores.app_user()
    # whoami and the mail sink need no rights at all: nobody, when we are root.
    helper_user = datastores.service_user("nobody")
    datastores.make_code_reachable(app_user)
    datastores.socket_dir(stack)
    signing_keys.prepare(stack)
    oidc_keys.prepare(stack)
    nginx_conf = write_nginx_config(stack)
    gunicorn = str(VENV_BIN / "gunicorn")
    sections = [
        f"[unix_http_server]\nfile={stack.path('run', 'supervisor.sock')}\nchmod=0700\n",
        "[supervisord]\n"
        f"logfile={stack.path('logs', 'supervisord.log')}\n"
        f"pidfile={stack.path('run', 'supervisord.pid')}\n"
        f"childlogdir={stack.path('logs')}\n"
        "logfile_maxbytes=10MB\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{stack.path('run', 'supervisor.sock')}\n",
        _program(
            "postgres",
            datastores.postgres_command(stack, pg_data),
            stack,
            stopsignal="INT",  # Postgres "fast" shutdown
            **({"user": pg_user.pw_name} if pg_user else {}),
        ),
        _program(
            "redis",
            datastores.redis_command(stack, redis_data),
            stack,
            **({"user": redis_user.pw_name} if redis_user else {}),
        ),
    ]
    if stack.mail_sink_dir is not None:
        datastores.owned_dir(stack.mail_sink_dir, helper_user, mode=0o755)
        sections.append(
            _program(
                "mailsink",
                [
                    *(str(VENV_BIN / "python"), "-m", "mailsink", "serve"),
                    *("--dir", str(stack.mail_sink_dir), "--port", str(stack.ports["mailsink"])),
                ],
                stack,
                directory=str(ROOT),
                **({"user": helper_user.pw_name} if helper_user else {}),
            )
        )
    # The services listen on unix sockets (no TCP port a client could reach
    # with a forged X-Forwarded-For) and, started as root, run as app_user.
    for service in ("auth_service", "api_service"):
        environment = service_overrides(stack, service)
        datastores.owned_dir(stack.path("metrics", service), app_user)
        sections.append(
            _program(
                service,
                [gunicorn, "-c", "gunicorn.conf.py"],
                stack,
                directory=str(ROOT / service),
                environment=",".join(f'{key}="{value}"' for key, value in environment.items()),
                autostart="false",
                stopsignal="TERM",
                **({"user": app_user.pw_name} if app_user else {}),
            )
        )
    # Gateway mode's demonstration upstream (standard library only).
    sections.append(
        _program(
            "whoami",
            [str(VENV_BIN / "python"), str(ROOT / "whoami" / "whoami.py")],
            stack,
            environment=f'BIND="127.0.0.1:{stack.ports["whoami"]}"',
            autostart="false",
            stopsignal="TERM",
            **({"user": helper_user.pw_name} if helper_user else {}),
        )
    )
    sections.append(
        _program(
            "nginx",
            ["nginx", "-p", str(stack.path("nginx")), "-c", str(nginx_conf), "-e", "stderr"],
            stack,
            autostart="false",
            stopsignal="QUIT",  # graceful: finish requests in flight
        )
    )
    # Debian's prometheus-nginx-exporter: nginx's stub_status as Prometheus metrics.
    sections.append(
        _program(
            "nginx_exporter",
            [
                shutil.which("prometheus-nginx-exporter") or "prometheus-nginx-exporter",
                "-nginx.scrape-uri", f"http://127.0.0.1:{stack.ports['nginx_status']}/stub_status",
                "-web.listen-address", f"127.0.0.1:{stack.ports['nginx_exporter']}",
                "-nginx.retries", "10",
            ],
            stack,
            autostart="false",
            **({"user": exporter_user.pw_name} if exporter_user else {}),
        )
    )  # fmt: skip
    conf = stack.path("supervisord.conf")
    conf.write_text("\n".join(sections))
    conf.chmod(0o600)
    return conf


def supervisord_pid(stack: StackSettings) -> int | None:
    """The pid of this stack's running supervisord, if any."""
    pidfile = stack.path("run", "supervisord.pid")
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def ctl(stack: StackSettings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run supervisorctl against this stack."""
    return subprocess.run(
        [str(VENV_BIN / "supervisorctl"), "-c", str(stack.path("supervisord.conf")), *args],
        check=check,
        env=stack.env,
    )


def start_supervisord(stack: StackSettings, foreground: bool) -> subprocess.Popen | None:
    """Start supervisord with the stack's environment (a child process when ``foreground``)."""
    command = [str(VENV_BIN / "supervisord"), "-c", str(stack.path("supervisord.conf"))]
    if foreground:
        # Its own session: a terminal's Ctrl-C or hang-up reaches only the
        # runner, which then stops supervisord in order (see cmd_run), instead
        # of both racing and leaving programs behind.
        # --silent: its log goes to the log file only. Writing to the terminal
        # made it die mid-shutdown once the terminal had hung up.
        return subprocess.Popen([*command, "--nodaemon", "--silent"], env=stack.env, start_new_session=True)
    subprocess.run(command, check=True, env=stack.env)
    return None


def wait_until_gone(pid: int, timeout: float = 60) -> bool:
    """Wait for a process to exit; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
