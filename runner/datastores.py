"""Postgres and Redis of the local stack: binaries, OS users, data folders, readiness.

Run as root (CI, a fresh machine), the servers run as their own non-root OS
users, as Debian's packages set them up; run as a normal user, as that user.

Each part gets only the rights it needs (docs/OPERATIONS.md "Who runs as
whom"): the Postgres superuser is used by this module alone, to create the
database and the two roles of stores/postgres/roles.sql; Redis's users come from
stores/redis/users.acl, and its full-rights ``default`` user has a fresh random
password each start, kept in the state folder for `python -m runner redis-cli`.
"""

import hashlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from authcore.settings import SettingsError, read_secret
from runner import pg_upgrade
from runner.demote import as_user
from runner.settings import DB_MIGRATION_USER, DB_NAME, DB_USER, ROOT, StackSettings

DB_SUPERUSER = "postgres"
ROLES_SQL = ROOT / "stores" / "postgres" / "roles.sql"
REDIS_ACL_TEMPLATE = ROOT / "stores" / "redis" / "users.acl"


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


SERVICE_OS_USER = "authstack"


def app_user() -> pwd.struct_passwd | None:
    """The unprivileged OS user both services run as when we are root (created on first use)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_OS_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", SERVICE_OS_USER],
        check=True, capture_output=True,
    )  # fmt: skip
    return pwd.getpwnam(SERVICE_OS_USER)


def make_code_reachable(owner: pwd.struct_passwd | None) -> None:
    """Let the services' user reach the checkout, the venv and the interpreter it links to.

    Execute bits on parent folders only (e.g. a pyenv Python under /root),
    as for the data folders: nothing becomes listable or writable.
    """
    if owner is None:
        return
    for path in (
        ROOT / "auth_service",
        ROOT / "api_service",
        ROOT / "whoami",
        ROOT / "mailsink",
        Path(sys.base_prefix) / "bin",
    ):
        _make_reachable(path / "x")


def socket_dir(stack: StackSettings) -> Path:
    """Where the services' unix sockets live: reachable by their user and nginx's workers only."""
    owner = app_user()
    folder = owned_dir(stack.path("run", "sockets"), owner, mode=0o750 if owner else 0o700)
    return folder


def service_socket(stack: StackSettings, service: str) -> Path:
    """The unix socket ``service`` (auth_service or api_service) listens on."""
    return stack.path("run", "sockets", f"{service}.sock")


def _make_reachable(path: Path) -> None:
    """Let other users traverse every parent of ``path`` (root only, execute bit only).

    A checkout under a 0700 folder (``mktemp -d``) would otherwise hide the
    data folder from the postgres user.
    """
    for parent in reversed(path.parents):
        mode = os.stat(parent).st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(parent, mode | stat.S_IXOTH)


def owned_dir(path: Path, owner: pwd.struct_passwd | None, mode: int = 0o700) -> Path:
    """Create ``path`` (and its parents), owned by ``owner`` when given, with ``mode``; return it."""
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        _make_reachable(path)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(mode)
    return path


def stack_secret(stack: StackSettings, name: str) -> str:
    """A password setting of the stack (``name`` or ``name_FILE``); StackError if missing."""
    try:
        return read_secret(stack.env, name)
    except SettingsError as exc:
        raise StackError(f"{exc}; see .env.example") from None


def _superuser_password_file(stack: StackSettings) -> Path:
    return stack.path("postgres", "superuser.pw")


def _superuser_era_marker(stack: StackSettings) -> Path:
    return stack.path("postgres", "superuser-era")


def _keep_new_superuser_password(stack: StackSettings) -> str:
    """A fresh superuser password, kept in the state folder (readable by whoever started the stack)."""
    superuser_password = secrets.token_urlsafe(32)
    kept = _superuser_password_file(stack)
    kept.write_text(superuser_password + "\n")
    kept.chmod(0o600)
    return superuser_password


def prepare_postgres(stack: StackSettings) -> Path:
    """Create the cluster on first start; return its data folder.

    The superuser's password is random, kept in the state folder (readable
    by whoever started the stack only) and used by this runner alone.
    """
    owner = service_user("postgres")
    data = stack.path("postgres", "data")
    owned_dir(data.parent, owner)
    if (data / "PG_VERSION").exists():
        if not _superuser_password_file(stack).exists():
            # Made by an older version, whose services logged in as the
            # superuser: converted in place once Postgres runs (wait_for_postgres).
            # The marker first: a start stopped in between still converts.
            _superuser_era_marker(stack).touch(mode=0o600)
            _keep_new_superuser_password(stack)
        return data
    owned_dir(data, owner)
    superuser_password = _keep_new_superuser_password(stack)
    pwfile = stack.path("postgres", "initdb.pw")
    pwfile.write_text(superuser_password + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    pwfile.chmod(0o600)
    try:
        subprocess.run(
            [
                str(postgres_bin_dir() / "initdb"),
                f"--pgdata={data}",
                f"--username={DB_SUPERUSER}",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C.UTF-8",  # the compose image too is UTF-8 (its case mapping, e.g. U+0130)
            ],
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=as_user(owner),
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
        # No DETAIL lines: a unique violation's would echo a username or email.
        "-c", "log_error_verbosity=terse",
    ]  # fmt: skip


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redis_admin_password_file(stack: StackSettings) -> Path:
    """Where this start's password of Redis's full-rights ``default`` user is kept."""
    return stack.path("run", "redis-admin.pw")


def prepare_redis(stack: StackSettings) -> Path:
    """The Redis data folder (append-only file lives there), with this start's ACL file in it.

    The ACL file holds SHA-256 hashes of the passwords, never the passwords.
    """
    owner = service_user("redis")
    data = owned_dir(stack.path("redis"), owner)
    admin_password = secrets.token_urlsafe(32)
    kept = redis_admin_password_file(stack)
    kept.write_text(admin_password + "\n")
    kept.chmod(0o600)
    acl = (
        REDIS_ACL_TEMPLATE.read_text()
        .replace("@ADMIN_HASH@", _sha256(admin_password))
        .replace("@AUTH_HASH@", _sha256(stack_secret(stack, "REDIS_AUTH_PASSWORD")))
        .replace("@API_HASH@", _sha256(stack_secret(stack, "REDIS_API_PASSWORD")))
    )
    acl_file = data / "users.acl"
    acl_file.write_text(acl)
    acl_file.chmod(0o600)
    if owner is not None:
        os.chown(acl_file, owner.pw_uid, owner.pw_gid)
    return data


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
        "--aclfile", str(data / "users.acl"),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--protected-mode", "yes",
        "--daemonize", "no",
    ]  # fmt: skip


def wait_for_postgres(stack: StackSettings, timeout: float = 30) -> None:
    """Wait until Postgres accepts connections, then make sure the database and roles exist."""
    port = stack.ports["postgres"]
    superuser_password = _superuser_password_file(stack).read_text().strip()
    if _superuser_era_marker(stack).exists():
        try:
            pg_upgrade.rename_bootstrap_superuser(
                port,
                DB_USER,
                stack_secret(stack, "POSTGRES_PASSWORD"),
                DB_SUPERUSER,
                superuser_password,
                timeout,
            )
        except (RuntimeError, psycopg.Error) as exc:
            raise StackError(f"converting the superuser-era cluster failed: {exc}") from None
        print("converted the cluster of an older version: its superuser is now the runner's alone")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=port,
                user=DB_SUPERUSER,
                password=superuser_password,
                dbname="postgres",
                autocommit=True,
                connect_timeout=2,
            ) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
                if exists.fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise StackError(f"Postgres did not answer on port {port}: {exc}") from None
            time.sleep(0.2)
    _apply_roles(stack, superuser_password)
    # Tables of an older version (made by the superuser) pass to the schema's
    # owner, so migrations can alter them; nothing to do on a cluster made today.
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user=DB_SUPERUSER,
        password=superuser_password,
        dbname=DB_NAME,
        autocommit=True,
        connect_timeout=2,
    ) as conn:
        moved = pg_upgrade.give_schema_to(conn, DB_MIGRATION_USER)
    if moved:
        print(f"gave {len(moved)} object(s) of the older version's schema to {DB_MIGRATION_USER}")
    _superuser_era_marker(stack).unlink(missing_ok=True)


def superuser_psql(stack: StackSettings, sql: str) -> int:
    """Run ``sql`` as the superuser in the stack's database, printing rows unaligned; psql's exit code."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PGPASSWORD": _superuser_password_file(stack).read_text().strip(),
    }
    command = [
        str(postgres_bin_dir() / "psql"),
        "--no-psqlrc", "--quiet", "--no-password", "--tuples-only", "--no-align",
        "-v", "ON_ERROR_STOP=1",
        "--host=127.0.0.1", f"--port={stack.ports['postgres']}",
        f"--username={DB_SUPERUSER}", f"--dbname={DB_NAME}",
        "-c", sql,
    ]  # fmt: skip
    return subprocess.run(command, env=env).returncode


def _apply_roles(stack: StackSettings, superuser_password: str) -> None:
    """Create or update the service and migration roles (stores/postgres/roles.sql), passwords included."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PGPASSWORD": superuser_password,
        "POSTGRES_SERVICE_PASSWORD": stack_secret(stack, "POSTGRES_PASSWORD"),
        "POSTGRES_MIGRATION_PASSWORD": stack_secret(stack, "POSTGRES_MIGRATION_PASSWORD"),
    }
    command = [
        str(postgres_bin_dir() / "psql"),
        "--no-psqlrc", "--quiet", "--no-password",
        "--host=127.0.0.1", f"--port={stack.ports['postgres']}",
        f"--username={DB_SUPERUSER}", f"--dbname={DB_NAME}",
        "-v", f"service_role={DB_USER}",
        "-v", f"migration_role={DB_MIGRATION_USER}",
        "-v", f"dbname={DB_NAME}",
        "-f", str(ROLES_SQL),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"setting up the database roles failed:\n{result.stderr}")


def wait_for_redis(stack: StackSettings, timeout: float = 15) -> None:
    """Wait until Redis answers PING."""
    client = redis.Redis.from_url(
        stack.env["REDIS_URL"], password=stack_secret(stack, "REDIS_AUTH_PASSWORD"), socket_timeout=1
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.RedisError as exc:
            if time.monotonic() > deadline:
                raise StackError(f"Redis did not answer: {exc}") from None
            time.sleep(0.1)
