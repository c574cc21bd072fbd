"""The local stack's settings: environment first, then ``.env``, then defaults.

The names are those of docs/OPERATIONS.md, the same the compose file passes to the containers.
What only the local stack needs (free internal ports, the state folder, the
URLs built from them) is computed here.
"""

import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
DEFAULT_STATE_DIR = ROOT / ".state" / "local"
SERVICES = (
    "postgres", "redis", "mailsink", "auth_service", "api_service", "whoami", "nginx", "nginx_exporter",
)  # fmt: skip
# Internal TCP ports: the data stores, whoami, the services' metrics listeners,
# nginx's stub_status and its exporter, the mail sink. auth_service and
# api_service themselves listen on unix sockets only nginx can reach (supervisor.py).
PORT_NAMES = (
    "postgres", "redis", "whoami",
    "auth_metrics", "api_metrics", "nginx_status", "nginx_exporter", "mailsink",
)  # fmt: skip
DB_NAME = DB_USER = "authstack"  # the database, and the services' role (DML only)
DB_MIGRATION_USER = "authstack_migrate"  # owns the schema; only migrations log in as it
REDIS_AUTH_USER, REDIS_API_USER = "auth_service", "api_service"  # ACL users (stores/redis/users.acl)
# The passwords of the data stores' users; `make run` writes fresh ones into .env.
STORE_PASSWORDS = (
    "POSTGRES_PASSWORD",
    "POSTGRES_MIGRATION_PASSWORD",
    "REDIS_AUTH_PASSWORD",
    "REDIS_API_PASSWORD",
)


# Generated like them: the key that seals second-factor secrets (32 random bytes, base64url).
GENERATED_SECRETS = (*STORE_PASSWORDS, "MFA_KEY")


def fresh_store_passwords() -> dict[str, str]:
    """A new random password for each data-store user, and a new MFA_KEY."""
    return {name: secrets.token_urlsafe(32) for name in GENERATED_SECRETS}


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a .env file (comments and blank lines skipped)."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def write_fresh_env_file(path: Path) -> None:
    """Create ``.env`` from ``.env.example`` with freshly generated secrets."""
    example = (ROOT / ".env.example").read_text()
    generated = {"JWT_SECRET": secrets.token_urlsafe(48), **fresh_store_passwords()}
    lines = []
    for line in example.splitlines():
        key = line.partition("=")[0].strip()
        lines.append(f"{key}={generated[key]}" if key in generated else line)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def add_missing_passwords(path: Path) -> None:
    """Append fresh data-store passwords and MFA_KEY an older ``.env`` lacks (neither set nor ``*_FILE``)."""
    present = {**read_env_file(path), **os.environ}
    missing = {
        name: value
        for name, value in fresh_store_passwords().items()
        if not present.get(name) and not present.get(name + "_FILE")
    }
    if missing:
        with path.open("a") as env_file:
            env_file.writelines(f"{name}={value}\n" for name, value in missing.items())
        print(f"added fresh {', '.join(missing)} to {path.name}")


def merged_environment(create_env_file: bool) -> dict[str, str]:
    """The process environment over ``.env`` (written first if asked and missing)."""
    if create_env_file and not ENV_FILE.exists():
        write_fresh_env_file(ENV_FILE)
        print(f"wrote {ENV_FILE.name} with a fresh JWT_SECRET, MFA_KEY and data-store passwords")
    elif create_env_file:
        add_missing_passwords(ENV_FILE)
    # An empty variable counts as unset, as it does for the services.
    return {**read_env_file(ENV_FILE), **{k: v for k, v in os.environ.items() if v}}


def throwaway_stack_environment(state_dir: str, key_id: str, **overrides: str) -> dict[str, str]:
    """Settings of a stack made to be thrown away (tests, bench): fresh secrets, its own folder and port.

    ``JWT_KEYS`` is set because it wins over ``JWT_SECRET``: a developer's
    ``.env`` can't leak in. ``overrides`` replace or add settings.
    """
    return {
        "STATE_DIR": state_dir,
        "HTTP_PORT": str(free_port()),
        "JWT_KEYS": f"{key_id}:{secrets.token_urlsafe(48)}",
        **fresh_store_passwords(),
        "LOGIN_MAX_FAILURES": "5",
        "ACCESS_TOKEN_TTL": "900",
        "REFRESH_TOKEN_TTL": "1209600",
        **overrides,
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class StackSettings:
    """Where one local stack lives and how its parts reach each other."""

    state_dir: Path
    http_port: int
    ports: dict[str, int]
    env: dict[str, str]  # what every process of the stack is started with

    @property
    def base_url(self) -> str:
        """The stack's one address (nginx), as HTTP clients and the tests reach it."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def public_url(self) -> str:
        """Where people reach the stack: ``PUBLIC_URL``, by default ``http://localhost:<port>``.

        A name, not an IP address: WebAuthn relying party IDs can't be IP addresses,
        so passkeys work only on a page opened under a host name.
        """
        return self.env["PUBLIC_URL"]

    @property
    def mail_sink_dir(self) -> Path | None:
        """Where the mail sink keeps what it receives; None if SMTP_URL names a real server."""
        return Path(self.env["MAIL_SINK_DIR"]) if self.env.get("MAIL_SINK_DIR") else None

    def path(self, *parts: str) -> Path:
        """A path inside the state folder."""
        return self.state_dir.joinpath(*parts)


def redis_url(ports: dict[str, int], user: str) -> str:
    """This stack's Redis, as the ACL user ``user``."""
    return f"redis://{user}@127.0.0.1:{ports['redis']}/0"


def load_stack_settings(create_env_file: bool = False, new_ports: bool = False) -> StackSettings:
    """Resolve settings; pick fresh internal ports when ``new_ports`` (a fresh start)."""
    env = merged_environment(create_env_file)
    state_dir = Path(env.get("STATE_DIR") or DEFAULT_STATE_DIR).resolve()
    http_port = int(env.get("HTTP_PORT") or 8080)
    ports_file = state_dir / "ports.json"
    ports = json.loads(ports_file.read_text()) if ports_file.exists() and not new_ports else {}
    if set(ports) != set(PORT_NAMES):
        ports = {name: free_port() for name in PORT_NAMES}
        state_dir.mkdir(parents=True, exist_ok=True)
        ports_file.write_text(json.dumps(ports))
    # The URLs are always this stack's own: "set by each runner". They carry
    # the user, not the password (POSTGRES_PASSWORD & co., or their *_FILE).
    # REDIS_URL here is auth_service's; api_service gets its own (supervisor.py).
    env.update(
        STATE_DIR=str(state_dir),
        HTTP_PORT=str(http_port),
        DATABASE_URL=f"postgresql://{DB_USER}@127.0.0.1:{ports['postgres']}/{DB_NAME}",
        MIGRATION_DATABASE_URL=f"postgresql://{DB_MIGRATION_USER}@127.0.0.1:{ports['postgres']}/{DB_NAME}",
        REDIS_URL=redis_url(ports, REDIS_AUTH_USER),
        AUTH_RATE_LIMIT=env.get("AUTH_RATE_LIMIT") or "5r/s",
        # Gateway mode: the shipped whoami service unless APP_UPSTREAM names another.
        APP_UPSTREAM=env.get("APP_UPSTREAM") or f"127.0.0.1:{ports['whoami']}",
        APP_PREFIX=env.get("APP_PREFIX") or "/app/",
        APP_ROLE=env.get("APP_ROLE", ""),
        PUBLIC_URL=env.get("PUBLIC_URL") or f"http://localhost:{http_port}",
    )
    if not env.get("SMTP_URL"):
        # No mail server named: the stack's own mail sink receives everything (`make mail`).
        env.update(
            SMTP_URL=f"smtp://127.0.0.1:{ports['mailsink']}",
            MAIL_SINK_DIR=str(state_dir / "mailsink"),
        )
    return StackSettings(state_dir=state_dir, http_port=http_port, ports=ports, env=env)
