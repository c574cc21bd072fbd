"""Postgres and Redis of the local stack: binaries, OS users, data folders, readiness.

Run as root (CI, a fresh machine), the servers run as their own non-root OS
users, as Debian's packages set them up; run as a normal user, as that user.
"""

import os
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

import psycopg
import redis

from runner.settings import DB_NAME, DB_USER, StackSettings


class StackError(Exception):
    """The local stack can't be started; the message says why and what to do."""


def postgres_bin_dir() -> Path:
    """The folder of the newest installed PostgreSQL server binaries."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name),
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    raise StackError("PostgreSQL server not found: run `make deps` (apt-get install postgresql)")


def service_user(preferred: str) -> pwd.struct_passwd | None:
    """The OS user a server runs as when we are root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(preferred)
    except KeyError:
        return pwd.getpwnam("nobody")


def _make_reachable(path: Path) -> None:
    """Let other users traverse every parent of ``path`` (root only, execute bit only).

    A checkout under a 0700 folder (``mktemp -d``) would otherwise hide the
    data folder from the postgres user.
    """
    for parent in reversed(path.parents):
        mode = os.stat(parent).st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(parent, mode | stat.S_IXOTH)


def _owned_dir(path: Path, owner: pwd.struct_passwd | None, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        _make_reachable(path)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(mode)
    return path


def _as_user(owner: pwd.struct_passwd | None):
    if owner is None:
        return None

    def demote():
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return demote


def prepare_postgres(stack: StackSettings) -> Path:
    """Create the cluster on first start; return its data folder."""
    owner = service_user("postgres")
    data = stack.path("postgres", "data")
    _owned_dir(data.parent, owner)
    if (data / "PG_VERSION").exists():
        return data
    password = stack.env.get("POSTGRES_PASSWORD", "")
    if len(password) < 12:
        raise StackError("POSTGRES_PASSWORD must be set (12+ characters); see .env.example")
    _owned_dir(data, owner)
    pwfile = stack.path("postgres", "initdb.pw")
    pwfile.write_text(password + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    pwfile.chmod(0o600)
    try:
        subprocess.run(
            [
                str(postgres_bin_dir() / "initdb"),
                f"--pgdata={data}",
                f"--username={DB_USER}",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=_as_user(owner),
            cwd="/",
        )
    except subprocess.CalledProcessError as exc:
        raise StackError(f"initdb failed:\n{exc.stderr}") from None
    finally:
        pwfile.unlink(missing_ok=True)
    return data


def postgres_command(stack: StackSettings, data: Path) -> list[str]:
    """How supervisord starts Postgres: TCP on 127.0.0.1 only, no unix socket."""
    return [
        str(postgres_bin_dir() / "postgres"),
        "-D", str(data),
        "-h", "127.0.0.1",
        "-p", str(stack.ports["postgres"]),
        "-c", "unix_socket_directories=",
        "-c", "max_connections=100",
    ]  # fmt: skip


def prepare_redis(stack: StackSettings) -> Path:
    """The Redis data folder (append-only file lives there)."""
    return _owned_dir(stack.path("redis"), service_user("redis"))


def redis_command(stack: StackSettings, data: Path) -> list[str]:
    """How supervisord starts Redis: append-only, no eviction, loopback only."""
    server = shutil.which("redis-server")
    if server is None:
        raise StackError("redis-server not found: run `make deps` (apt-get install redis-server)")
    return [
        server,
        "--bind", "127.0.0.1",
        "--port", str(stack.ports["redis"]),
        "--dir", str(data),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--protected-mode", "yes",
        "--daemonize", "no",
    ]  # fmt: skip


def wait_for_postgres(stack: StackSettings, timeout: float = 30) -> None:
    """Wait until Postgres accepts connections, then make sure the database exists."""
    port = stack.ports["postgres"]
    admin_url = stack.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=2) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
                if exists.fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{DB_NAME}"')
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise StackError(f"Postgres did not answer on port {port}: {exc}") from None
            time.sleep(0.2)


def wait_for_redis(stack: StackSettings, timeout: float = 15) -> None:
    """Wait until Redis answers PING."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"], socket_timeout=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.RedisError as exc:
            if time.monotonic() > deadline:
                raise StackError(f"Redis did not answer: {exc}") from None
            time.sleep(0.1)
