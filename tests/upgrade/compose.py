"""Compose: a volume made by an old commit's docker-compose.yml, upgraded in place by today's.

The old checkout's compose file builds and starts the old stack (project
and image tag unique to this run; base images are the stand-ins of
ci/offline-images where no registry answers), which is seeded through
nginx, its reset mail read from the mail sink container; `down` keeps the
volumes. This checkout's compose file then builds and starts on the same
project (same volumes) and the same env file, with the secrets today's
stack needs and the old one lacked added as `make env` adds them; the
seeded data is checked through nginx. The containers, volumes and
networks the run made are removed at the end; the images stay tagged
`upgrade-<commit>` and `upgrade` (as compose-test keeps `e2e`), so the next
run builds from their layers.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from runner.settings import ROOT, add_missing_passwords, free_port
from tests.upgrade import scenario
from tests.upgrade.old_checkout import OldCheckout

REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?")
BUILD_TIMEOUT = 900
HEALTHY_TIMEOUT = 240


class Compose:
    """One project, env file and compose file (docker-compose 1.29, or `docker compose` v2)."""

    def __init__(self, project: str, env_file: Path, compose_file: Path):
        self.args = ["-p", project, "--env-file", str(env_file), "-f", str(compose_file)]
        self.project = project
        self.command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]

    def __call__(
        self, *args: str, timeout: float = 300, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a compose subcommand; the result, never raising on a non-zero exit."""
        return subprocess.run(
            [*self.command, *self.args, *args],
            capture_output=True, text=True, timeout=timeout, input=stdin, env=_build_environment(),
        )  # fmt: skip


def _build_environment() -> dict[str, str]:
    """The environment, plus the host's added CA certificates for pip in the build stages (as e2e.sh)."""
    env = dict(os.environ)
    certificates = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    if certificates:
        env["EXTRA_CA_CERTS"] = "".join(path.read_text() for path in certificates)
    return env


# Set when this run started the Docker engine: `finish` stops it again (as e2e.sh does).
_started_dockerd = False


def _install_packages() -> str | None:
    """Install docker.io, docker-compose and debootstrap if missing (as e2e.sh); None, or why not."""
    missing = [
        package
        for package, present in (
            ("docker.io", shutil.which("dockerd")),
            ("docker-compose", shutil.which("docker-compose") or _has_compose_v2()),
            ("debootstrap", shutil.which("debootstrap")),
        )
        if not present
    ]
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"missing {', '.join(missing)}: run as root, or install them"
    print(f"  compose: installing {' '.join(missing)}", flush=True)
    apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False, env=apt)
    installed = subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing], capture_output=True, text=True, check=False, env=apt
    )
    return (
        None
        if installed.returncode == 0
        else f"apt-get install {' '.join(missing)} failed: {installed.stderr}"
    )


def _docker_ready() -> str | None:
    """None once a Docker engine answers and the stand-in base images exist; else why not."""
    global _started_dockerd
    not_installed = _install_packages()
    if not_installed:
        return not_installed
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        started = subprocess.run(
            ["bash", str(ROOT / "tests/compose/dockerd-start.sh")], capture_output=True, text=True
        )
        if started.returncode != 0:
            return f"no Docker engine answers and dockerd-start.sh failed: {started.stderr.strip()[-400:]}"
        _started_dockerd = True
    standins = subprocess.run(
        ["bash", str(ROOT / "ci/offline-images/build.sh")], capture_output=True, text=True
    )
    if standins.returncode != 0:
        return f"the stand-in base images could not be built: {standins.stderr.strip()[-400:]}"
    return None


def finish() -> None:
    """Stop the Docker engine if this run started it."""
    if _started_dockerd:
        subprocess.run(
            ["bash", str(ROOT / "tests/compose/dockerd-stop.sh")], capture_output=True, check=False
        )


def _has_compose_v2() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0


def _states(project: str) -> list[dict[str, str]]:
    """Each container of the project: service, status, health ("-" without a healthcheck), exit code."""
    ids = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    if not ids:
        return []
    template = (
        '{"service": "{{ index .Config.Labels "com.docker.compose.service" }}",'
        ' "status": "{{ .State.Status }}",'
        ' "health": "{{ if .State.Health }}{{ .State.Health.Status }}{{ else }}-{{ end }}",'
        ' "exit": "{{ .State.ExitCode }}"}'
    )
    shown = subprocess.run(
        ["docker", "inspect", "-f", template, *ids], capture_output=True, text=True, check=False
    )
    return [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]


def _wait_healthy(project: str) -> str | None:
    """None once every long-running container is healthy (or running, without a healthcheck) and
    migrate exited 0; else what is not."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while True:
        bad = []
        states = _states(project)
        for state in states:
            if state["service"] == "migrate":
                if state["status"] != "exited" or state["exit"] != "0":
                    bad.append(state)
            elif state["status"] != "running" or state["health"] not in ("healthy", "-"):
                bad.append(state)
        if states and not bad:
            return None
        if time.monotonic() > deadline or any(
            s["service"] == "migrate" and s["status"] == "exited" for s in bad
        ):
            return f"not healthy: {bad or 'no container'}"
        time.sleep(2)


def _env_file(path: Path, compose_file: Path, http_port: int, image_tag: str) -> None:
    """A user's .env for that compose file: every secret it requires, fresh; then the run's settings."""
    required = sorted(set(REQUIRED.findall(compose_file.read_text())))
    lines = [f"{name}={secrets.token_urlsafe(32)}" for name in required]
    lines += [
        f"HTTP_PORT={http_port}",
        f"PUBLIC_URL=http://localhost:{http_port}",
        f"IMAGE_TAG={image_tag}",
        "BCRYPT_ROUNDS=4",
        "AUTH_RATE_LIMIT=200r/s",
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def _set(path: Path, name: str, value: str) -> None:
    lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{name}=")]
    path.write_text("\n".join([*lines, f"{name}={value}"]) + "\n")


def _mail_reader(compose: Compose) -> Callable[[str], list[dict[str, str]]]:
    def read(address: str) -> list[dict[str, str]]:
        show = ["python", "-m", "mailsink", "show", "--dir", "/var/lib/mailsink", "--to", address]
        shown = compose("exec", "-T", "mailsink", *show, "--format", "json", "--last", "20", timeout=60)
        if shown.returncode != 0:
            raise AssertionError(f"reading the old mail sink failed: {shown.stderr.strip()}")
        messages: list[dict[str, str]] = json.loads(shown.stdout or "[]")
        return messages

    return read


def _least_privilege(compose: Compose) -> list[str]:
    """After the upgrade: ``postgres`` is the only superuser and the migration role owns every table."""
    query = (
        "SELECT (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolsuper)"
        " || ' ' || (SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public')"
    )
    shown = compose(
        "exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "authstack", "-qAt", "-c", query
    )
    if shown.stdout.strip() != "postgres authstack_migrate":
        return [
            f"superusers and table owners after the upgrade: {shown.stdout.strip()} {shown.stderr.strip()}"
        ]
    return []


def _step(label: str, started: float) -> None:
    print(f"  compose: {label} ({time.monotonic() - started:.0f} s)", flush=True)


def run(old: OldCheckout, work: Path) -> list[str]:
    """The old compose stack, seed, down (volumes kept); today's compose on the same volumes, verify."""
    started = time.monotonic()
    not_ready = _docker_ready()
    if not_ready:
        return [not_ready]
    _step("docker engine and stand-in base images ready", started)
    run_id = secrets.token_hex(3)
    # Fixed image tags, kept like compose-test's `e2e` ones: the next run reuses their layers.
    project, old_tag, new_tag = f"authstack-upgrade-{run_id}", f"upgrade-{old.commit}", "upgrade"
    env_file, http_port = work / "compose.env", free_port()
    old_file = old.path / "docker-compose.yml"
    _env_file(env_file, old_file, http_port, old_tag)
    old_compose = Compose(project, env_file, old_file)
    new_compose = Compose(project, env_file, ROOT / "docker-compose.yml")
    base_url = f"http://127.0.0.1:{http_port}"
    try:
        built = old_compose("build", timeout=BUILD_TIMEOUT)
        if built.returncode != 0:
            return [f"the old compose stack did not build:\n{built.stdout[-1500:]}{built.stderr[-1500:]}"]
        _step(f"old images built (tag {old_tag})", started)
        up = old_compose("up", "-d", timeout=HEALTHY_TIMEOUT)
        unhealthy = _wait_healthy(project) if up.returncode == 0 else up.stderr[-1500:]
        if unhealthy:
            return [f"the old compose stack did not start: {unhealthy}"]
        _step("old stack up", started)
        mails = (old.path / "mailsink").is_dir()
        try:
            seeded = scenario.seed(base_url, _mail_reader(old_compose) if mails else None)
        except AssertionError as exc:
            return [f"seeding the old compose stack failed: {exc}"]
        down = old_compose("down", "--remove-orphans")  # the volumes stay
        if down.returncode != 0:
            return [f"the old compose stack did not stop: {down.stderr[-800:]}"]
        _step(
            f"seeded {len(seeded.accounts)} accounts"
            + (", a pending reset link" if seeded.reset_token else " (no reset mail in this version)")
            + "; old containers removed, volumes kept",
            started,
        )  # fmt: skip
        # Today's stack needs secrets the old one did not: added as `make env` adds them.
        add_missing_passwords(env_file)
        _set(env_file, "IMAGE_TAG", new_tag)
        built = new_compose("build", timeout=BUILD_TIMEOUT)
        if built.returncode != 0:
            return [f"today's compose stack did not build:\n{built.stdout[-1500:]}{built.stderr[-1500:]}"]
        _step(f"today's images built (tag {new_tag})", started)
        up = new_compose("up", "-d", timeout=HEALTHY_TIMEOUT)
        unhealthy = _wait_healthy(project) if up.returncode == 0 else up.stderr[-1500:]
        if unhealthy:
            logs = new_compose("logs", "--tail=30", "postgres", "migrate").stdout[-3000:]
            return [f"today's compose stack did not start on the old volumes: {unhealthy}\n{logs}"]
        upgraded = new_compose("logs", "--no-color", "postgres").stdout
        for line in upgraded.splitlines():
            if "authstack-upgrade:" in line:
                print(f"    {line.strip()}", flush=True)
        _step("today's stack up on the same volumes and env file", started)
        failures = _least_privilege(new_compose) + scenario.verify(base_url, seeded)
        _step(f"checked through nginx: {len(failures)} failure(s)", started)
        return failures
    finally:
        for compose in (new_compose, old_compose):
            compose("--profile", "test", "down", "-v", "--remove-orphans")
