"""``python -m runner <command>``: the local stack's commands, as the Makefile calls them.

env              write .env with fresh secrets if there is none; add what an older one lacks
run              start everything in the foreground; Ctrl-C stops it all
up               start everything in the background; return once all is healthy
down             stop everything and wait until no process is left
ps               the state of each process
logs [service]   the last lines of the logs
stop|start S     stop or start one of: postgres redis mailsink auth_service api_service whoami nginx
                 nginx_exporter
mail [--to A] [--format json] [--last N]   the latest mail the mail sink received
migrate          apply pending migrations to the running stack's database
oidc-client NAME REDIRECT_URI [--public] [--first-party]   register a single sign-on client
audit-verify     check the audit trail's hash chain (exit 1 at the first broken link)
superuser-psql SQL      run SQL as the Postgres superuser (the tests' tampering)
redis-cli ARGS   redis-cli as Redis's full-rights default user
service-exec S CMD...   run CMD with service S's settings, as its OS user
client-exec CMD...      run CMD as an outsider on this host (nobody)
service-address S       where service S listens
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

import requests

from runner import datastores, oidc_keys, supervisor
from runner.datastores import StackError, wait_for_postgres, wait_for_redis
from runner.demote import as_user
from runner.processes import descendants
from runner.settings import ROOT, SERVICES, StackSettings, load_stack_settings, merged_environment

HEALTH_ROUTES = ("/auth/healthz", "/api/healthz")


def auth_command(
    stack: StackSettings, module: str, *args: str, check: bool = True, stdin_text: str | None = None
) -> int:
    """Run one of auth_service's commands (``python -m auth_app.<module>``) with the stack's settings."""
    command = [str(supervisor.VENV_BIN / "python"), "-m", f"auth_app.{module}", *args]
    return subprocess.run(command, check=check, env=stack.env, input=stdin_text, text=True).returncode


def migrate(stack: StackSettings) -> None:
    """Apply the auth_service migrations: the explicit step before auth starts."""
    auth_command(stack, "migrate")


def wait_healthy(stack: StackSettings, timeout: float = 60) -> None:
    """Wait until both health routes answer 200 through nginx."""
    deadline = time.monotonic() + timeout
    pending = list(HEALTH_ROUTES)
    while pending:
        try:
            if requests.get(stack.base_url + pending[0], timeout=2).status_code == 200:
                pending.pop(0)
                continue
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise StackError(f"{pending[0]} did not become healthy; see `make logs`")
        time.sleep(0.2)


def bring_up(stack: StackSettings) -> None:
    """Once supervisord runs: datastores, migrations, then the services and nginx."""
    wait_for_postgres(stack)
    wait_for_redis(stack)
    migrate(stack)
    supervisor.ctl(stack, "start", *supervisor.SERVICES_AFTER_MIGRATION)
    wait_healthy(stack)


def already_running(stack: StackSettings) -> bool:
    """True (with a message) if this state folder's stack is running."""
    if supervisor.supervisord_pid(stack) is None:
        return False
    print(f"a stack already runs from {stack.state_dir}: `make down` first, or set STATE_DIR")
    return True


def cmd_up(stack: StackSettings) -> int:
    """Start in the background, return once healthy."""
    supervisor.write_config(stack)
    supervisor.start_supervisord(stack, foreground=False)
    try:
        bring_up(stack)
    except (StackError, subprocess.CalledProcessError) as exc:
        print(f"start failed: {exc}", file=sys.stderr)
        cmd_logs(stack, [])
        cmd_down(stack)
        return 1
    print(f"stack is up: {stack.public_url}  (state in {stack.state_dir})")
    return 0


class Stop(Exception):
    """A stop signal arrived while the foreground stack was starting or running."""


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# supervisord stops its programs one by one, each within its stopwaitsecs (20 s).
SHUTDOWN_SECONDS = 120


def say(text: str, error: bool = False) -> None:
    """Print a line, never failing: the pipe (``| tee``) or the terminal may be gone.

    Once a write fails the descriptor is pointed at /dev/null, so later
    prints and the interpreter's final flush can't fail either.
    """
    stream = sys.stderr if error else sys.stdout
    try:
        print(text, file=stream, flush=True)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


def stop_supervisord(process: subprocess.Popen) -> int:
    """SIGTERM supervisord (it stops every program first) and wait; kill what is left if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=SHUTDOWN_SECONDS)
    except subprocess.TimeoutExpired:
        # Fail closed: no process of the stack may outlive the command.
        for pid in reversed(descendants(process.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return process.wait()


def cmd_run(stack: StackSettings) -> int:
    """Start in the foreground; SIGINT (Ctrl-C), SIGTERM or SIGHUP stops everything.

    The stop does not depend on the terminal or a pipe: every signal that
    ends a foreground command lands here (supervisord runs in its own
    session, so only through us), every print survives a closed pipe, and
    whatever way this function is left, supervisord is stopped and waited for.
    """
    # "requested": the first stop signal; "interruptible": whether it may
    # interrupt what runs now. Not while supervisord is being started: a stop
    # between its fork and ``process`` being set would orphan it.
    state: dict = {"requested": None, "interruptible": True}

    def on_signal(signum: int, _frame) -> None:
        # Only the first one interrupts; later ones (a second Ctrl-C, the
        # hang-up that follows) let the shutdown under way finish.
        if state["requested"] is None:
            state["requested"] = signum
            if state["interruptible"]:
                raise Stop(signum)

    def allow_interruptions() -> None:
        state["interruptible"] = True
        if state["requested"] is not None:
            raise Stop(state["requested"])

    for received in STOP_SIGNALS:
        signal.signal(received, on_signal)
    process = None
    code = 0
    try:
        try:
            supervisor.write_config(stack)
            state["interruptible"] = False
            process = supervisor.start_supervisord(stack, foreground=True)
            allow_interruptions()
            time.sleep(0.5)
            bring_up(stack)
            say(f"stack is up: {stack.public_url}  (Ctrl-C stops it)")
            code = process.wait()
        except Stop as stop:
            say(f"{signal.Signals(stop.args[0]).name}: stopping...")
        except (StackError, subprocess.CalledProcessError) as exc:
            say(f"start failed: {exc}", error=True)
            code = 1
        finally:
            # A Stop can still land once here (a signal during the error path
            # above): then this runs again. After that none can be raised.
            while True:
                try:
                    state["requested"] = state["requested"] or signal.SIGTERM
                    if process is not None:
                        code = code or stop_supervisord(process)
                    break
                except Stop:
                    code = code or 1
    except Stop:
        # A signal during the error path above: the shutdown (finally) ran.
        code = code or 1
    return code


def cmd_down(stack: StackSettings) -> int:
    """Stop everything; return once supervisord and its programs are gone."""
    pid = supervisor.supervisord_pid(stack)
    if pid is None:
        print("nothing running")
        return 0
    supervisor.ctl(stack, "shutdown", check=False)
    if not supervisor.wait_until_gone(pid):
        print("supervisord did not stop in time", file=sys.stderr)
        return 1
    print("stopped")
    return 0


def cmd_logs(stack: StackSettings, names: list[str]) -> int:
    """Print the last lines of each (or the named) program's log."""
    for name in names or SERVICES:
        log = stack.path("logs", f"{name}.log")
        if log.exists():
            print(f"==> {name} <==")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
    return 0


def program_pid(stack: StackSettings, name: str) -> int:
    """The pid supervisord runs ``name`` as (0 if it isn't running)."""
    out = subprocess.run(
        [str(supervisor.VENV_BIN / "supervisorctl"), "-c", str(stack.path("supervisord.conf")), "pid", name],
        capture_output=True,
        text=True,
        env=stack.env,
    ).stdout.strip()
    return int(out) if out.isdigit() else 0


def cmd_signal(stack: StackSettings, signame: str, name: str) -> int:
    """Send a signal to a program and every process below it (a whole Postgres, say)."""
    pid = program_pid(stack, name)
    if not pid:
        print(f"{name} is not running", file=sys.stderr)
        return 1
    number = signal.Signals["SIG" + signame.upper().removeprefix("SIG")]
    for target in descendants(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, number)
    return 0


def cmd_kill_worker(stack: StackSettings, name: str) -> int:
    """SIGKILL one gunicorn worker (a crash mid-request); the master starts another."""
    workers = descendants(program_pid(stack, name))[1:]
    if not workers:
        print(f"{name} has no worker running", file=sys.stderr)
        return 1
    os.kill(workers[0], signal.SIGKILL)
    return 0


def cmd_redis_cli(stack: StackSettings, args: list[str]) -> int:
    """redis-cli against this stack's Redis, as its full-rights ``default`` user."""
    command = [
        shutil.which("redis-cli") or "redis-cli",
        "-p",
        str(stack.ports["redis"]),
        "--no-auth-warning",
        *args,
    ]
    password = datastores.redis_admin_password_file(stack).read_text().strip()
    return subprocess.run(command, env={**os.environ, "REDISCLI_AUTH": password}).returncode


def cmd_service_exec(stack: StackSettings, service: str, command: list[str]) -> int:
    """Run ``command`` as ``service`` runs: its settings, its OS user (the privilege tests use it)."""
    env = {**stack.env, **supervisor.service_overrides(stack, service)}
    env["PATH"] = f"{supervisor.VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return subprocess.run(command, env=env, cwd="/", preexec_fn=as_user(datastores.app_user())).returncode


def cmd_client_exec(command: list[str]) -> int:
    """Run ``command`` as an outsider on this host (nobody, when we are root)."""
    outsider = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(command, env=env, cwd="/", preexec_fn=as_user(outsider)).returncode


def cmd_service_address(stack: StackSettings, service: str) -> int:
    """Print where ``service`` listens (a unix socket here; host:port in compose)."""
    print(f"unix:{datastores.service_socket(stack, service)}")
    return 0


def cmd_mail(stack: StackSettings, args: list[str]) -> int:
    """Print what the stack's mail sink received (``python -m mailsink show``)."""
    if stack.mail_sink_dir is None:
        print("SMTP_URL names a mail server: this stack runs no mail sink", file=sys.stderr)
        return 1
    python = str(supervisor.VENV_BIN / "python")
    command = [python, "-m", "mailsink", "show", "--dir", str(stack.mail_sink_dir), *args]
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    """Dispatch a command; see the module docstring."""
    if not argv:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    try:
        if command == "env" and not args:
            merged_environment(create_env_file=True)
            oidc_keys.write_compose_keys()
            return 0
        if command in ("run", "up"):
            stack = load_stack_settings(create_env_file=True, new_ports=True)
            if already_running(stack):
                return 1
            return cmd_run(stack) if command == "run" else cmd_up(stack)
        stack = load_stack_settings()
        if command == "down":
            return cmd_down(stack)
        if command == "logs":
            return cmd_logs(stack, args)
        if command == "mail":
            return cmd_mail(stack, args)
        if supervisor.supervisord_pid(stack) is None:
            print(f"no stack runs from {stack.state_dir}")
            return 1
        if command == "ps":
            return supervisor.ctl(stack, "status", check=False).returncode
        if command in ("stop", "start") and len(args) == 1 and args[0] in SERVICES:
            return supervisor.ctl(stack, command, args[0], check=False).returncode
        if command == "signal" and len(args) == 2 and args[1] in SERVICES:
            return cmd_signal(stack, *args)
        if command == "kill-worker" and args in (["auth_service"], ["api_service"]):
            return cmd_kill_worker(stack, args[0])
        if command == "redis-cli":
            return cmd_redis_cli(stack, args)
        if command == "service-exec" and len(args) > 1 and args[0] in ("auth_service", "api_service"):
            return cmd_service_exec(stack, args[0], args[1:])
        if command == "client-exec" and args:
            return cmd_client_exec(args)
        if command == "service-address" and args in (["auth_service"], ["api_service"]):
            return cmd_service_address(stack, args[0])
        if command == "migrate":
            migrate(stack)
            return 0
        if command == "admin" and len(args) == 2:
            return auth_command(stack, "admin", *args, check=False)
        if command == "oidc-client" and len(args) >= 2:
            return auth_command(stack, "oidc.register", *args, check=False)
        if command == "audit-verify":
            return auth_command(stack, "audit.verify", check=False)
        if command == "superuser-psql" and len(args) == 1:
            return datastores.superuser_psql(stack, args[0])
        if command == "rebuild-revocations":
            return auth_command(stack, "revocation_rebuild", check=False)
    except StackError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
