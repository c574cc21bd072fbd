"""A state folder of the superuser era starts with today's runner, converted in place, accounts kept.

The folder is made as the runner made it before least privilege: the
cluster's bootstrap superuser is the services' role (``authstack``, password
``POSTGRES_PASSWORD``), the tables of that era's migrations (001, 002)
belong to it, and an account is in them. Then ``python -m runner up`` on the
same STATE_DIR and .env must start (it refused before), the account must log
in through nginx, neither login role may be a superuser any more, and the
schema must belong to the migration role. Runs where the local runner can
start a stack (``STACK_CONTROL`` is ``python -m runner``).
"""

import os
import secrets
import shutil
import subprocess
import sys
from unittest import mock

import bcrypt
import psycopg
import pytest
import requests

from runner import datastores
from runner.demote import as_user
from runner.settings import (
    DB_MIGRATION_USER,
    DB_NAME,
    DB_USER,
    ROOT,
    load_stack_settings,
    throwaway_stack_environment,
)

pytestmark = pytest.mark.slow

OLD_ERA_MIGRATIONS = ("001_users_and_sessions.sql", "002_rebuild_indexes.sql")
MIGRATIONS = ROOT / "auth_service" / "auth_app" / "migrations"


def _local_runner_available() -> bool:
    return os.environ.get("STACK_CONTROL", "").strip().endswith("-m runner")


def _make_superuser_era_cluster(stack, account: dict) -> None:
    """initdb with the services' role as superuser, that era's tables and one account; stopped again."""
    owner = datastores.service_user("postgres")
    data = stack.path("postgres", "data")
    datastores.owned_dir(data.parent, owner)
    datastores.owned_dir(data, owner)
    password = stack.env["POSTGRES_PASSWORD"]
    pwfile = stack.path("postgres", "initdb.pw")
    pwfile.write_text(password + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    bin_dir = datastores.postgres_bin_dir()
    as_postgres = {"preexec_fn": as_user(owner), "cwd": "/", "check": True, "capture_output": True}
    subprocess.run(
        [
            str(bin_dir / "initdb"), f"--pgdata={data}", f"--username={DB_USER}", f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--locale=C",
        ],
        **as_postgres,
    )  # fmt: skip
    pwfile.unlink()
    port = stack.ports["postgres"]
    options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories="
    log = data.parent / "era.log"
    subprocess.run(
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
        **as_postgres,
    )
    try:
        connect = {
            "host": "127.0.0.1",
            "port": port,
            "user": DB_USER,
            "password": password,
            "autocommit": True,
        }
        with psycopg.connect(dbname="postgres", **connect) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with psycopg.connect(dbname=DB_NAME, **connect) as conn:
            conn.execute(
                "CREATE TABLE schema_migrations"
                " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for name in OLD_ERA_MIGRATIONS:
                conn.execute((MIGRATIONS / name).read_text())
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            hashed = bcrypt.hashpw(account["password"].encode(), bcrypt.gensalt(4)).decode()
            conn.execute(
                "INSERT INTO users (username, email, password_hash) VALUES (%s, %s, %s)",
                (account["username"], account["email"], hashed),
            )
    finally:
        subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], **as_postgres)


def test_a_superuser_era_state_dir_is_converted_in_place_and_keeps_its_accounts():
    if not _local_runner_available():
        pytest.skip("needs the local runner (STACK_CONTROL=python -m runner) to start its own stack")
    state_dir = ROOT / ".state" / f"superuser-era-{secrets.token_hex(3)}"
    env = {
        "PATH": "/usr/sbin:" + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **throwaway_stack_environment(state_dir=str(state_dir), key_id="era1", BCRYPT_ROUNDS="4"),
    }
    name = "era-" + secrets.token_hex(4)
    account = {"username": name, "email": f"{name}@example.com", "password": "era-password-0123"}
    try:
        with mock.patch.dict(os.environ, env):
            stack = load_stack_settings(new_ports=True)
            _make_superuser_era_cluster(stack, account)
        up = subprocess.run(
            [sys.executable, "-m", "runner", "up"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "converted the cluster of an older version" in up.stdout, up.stdout
        with mock.patch.dict(os.environ, env):
            stack = load_stack_settings()
        login = requests.post(
            stack.base_url + "/auth/login",
            json={"username": account["username"], "password": account["password"]},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        superuser = {
            "host": "127.0.0.1",
            "port": stack.ports["postgres"],
            "user": datastores.DB_SUPERUSER,
            "password": stack.path("postgres", "superuser.pw").read_text().strip(),
        }
        with psycopg.connect(dbname=DB_NAME, **superuser) as conn:
            roles = dict(
                conn.execute("SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'authstack%'")
            )
            owners = set(
                conn.execute(
                    "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            )
        # Today's roles, none a superuser: the services', the schema owner's and the audit pruner's.
        assert roles == {DB_USER: False, DB_MIGRATION_USER: False, "authstack_audit_prune": False}, roles
        assert owners == {(DB_MIGRATION_USER,)}, owners
        assert not stack.path("postgres", "superuser-era").exists()
    finally:
        subprocess.run([sys.executable, "-m", "runner", "down"], cwd=ROOT, env=env, check=False, timeout=180)
        shutil.rmtree(state_dir, ignore_errors=True)
