"""Every setting of the stack, declared once: name, type, default, bounds, who reads it, what it means.

The services read settings through ``authcore.settings.read`` which takes
type, default and bounds from here; ``docs/OPERATIONS.md``'s settings table
and ``.env.example`` are generated from here (``make settings-docs``), the
Makefile takes its list of names from here, and ``deploy/tests`` checks the
compose file, the Swarm stack and the Kubernetes manifests against the
``parts`` of each setting. Adding a setting is one declaration plus its use.

Standard library only: the Makefile runs this file with the system Python
(``python3 authcore/authcore/settings_registry.py names``) before any venv exists.
"""

import sys
from dataclasses import dataclass

# The parts of the stack that read settings. The deployment files give each
# Python service and nginx exactly the settings whose ``parts`` name it.
AUTH, API, MIGRATE, NGINX = "auth_service", "api_service", "migrate", "nginx"
POSTGRES, REDIS = "postgres image", "redis image"
LOCAL, COMPOSE = "local stack", "compose file"
# Modes that change what a part reads.
ASYMMETRIC = "JWT_ALG EdDSA or ES256"
DEPLOYED_PARTS = (AUTH, API, MIGRATE, NGINX)

# "none", as the docs table words a missing default (an en dash).
NONE = "\u2013"

# Kinds, and how each is checked (authcore.settings.read).
TEXT, INT, SECONDS, BOOL, SECRET, PASSWORD, CHOICE = (
    "text",
    "int",
    "seconds",
    "bool",
    "secret",
    "password",
    "choice",
)


@dataclass(frozen=True)
class Setting:
    """One setting: its name, kind, default (None: none), bounds and doc line.

    ``required`` settings stop a service that reads them when unset.
    ``secret`` ones are never logged and may come from ``<NAME>_FILE``.
    ``runner`` settings are computed by each runner (URLs, ports) rather
    than chosen by people; ``example`` is what ``.env.example`` suggests.
    """

    name: str
    kind: str
    doc: str
    parts: tuple[str, ...]
    default: object = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    runner: bool = False
    group: str = "optional"
    in_image: bool = False  # the service image sets it (Dockerfile ENV); a deployment may override it
    mode: str | None = (
        None  # read only in this mode (e.g. ASYMMETRIC): deployments add it in that mode's files
    )
    shown_default: str | None = None  # the default as the docs table words it, where it depends on the runner

    @property
    def secret(self) -> bool:
        """True for secrets and passwords: never logged, readable from ``<NAME>_FILE``."""
        return self.kind in (SECRET, PASSWORD)

    def default_text(self) -> str:
        """The default as the docs and ``.env.example`` show it."""
        if self.shown_default is not None:
            return self.shown_default
        if self.default is None:
            return f"{NONE} (required)" if self.required else NONE
        if self.kind == BOOL:
            return "on" if self.default else "off"
        if isinstance(self.default, float) and self.default.is_integer():
            return str(int(self.default))
        return str(self.default) if self.default != "" else "empty"


def _declare(*settings: Setting) -> dict[str, Setting]:
    registry: dict[str, Setting] = {}
    for setting in settings:
        if setting.name in registry:
            raise ValueError(f"{setting.name} is declared twice")
        registry[setting.name] = setting
    return registry


_BOTH = (AUTH, API)
_GUNICORN = "gunicorn of both services"
# The data stores' images refuse to start without their users' passwords; the
# services connect without one only to a store that asks for none (unit tests).
_STORE = f"{NONE} (required by the data stores)"

REGISTRY = _declare(
    # --- the secrets every stack needs ---
    Setting(
        "JWT_SECRET",
        SECRET,
        "the shared HS256 secret (32+ random bytes, key id `k1`)",
        _BOTH,
        group="secrets",
        shown_default=f"{NONE} (required unless `JWT_KEYS`)",
    ),
    Setting(
        "JWT_KEYS",
        SECRET,
        "`kid1:secret1,kid2:secret2`: the first signs, all verify; wins over `JWT_SECRET`",
        _BOTH,
    ),
    Setting(
        "JWT_ALG",
        CHOICE,
        "how access tokens are signed: `HS256` (the shared secret `JWT_SECRET`/`JWT_KEYS`), `EdDSA` (Ed25519) or "
        '`ES256` (P-256) with a private key only auth_service holds; see "Signing keys"',
        _BOTH,
        default="HS256",
        choices=("HS256", "EdDSA", "ES256"),
    ),
    Setting(
        "JWT_PRIVATE_KEYS_FILE",
        TEXT,
        "under EdDSA/ES256: a private JWK Set (RFC 7517 JSON), each key with its `kid`; the first signs, the "
        "others still verify. Never given to api_service",
        (AUTH,),
        mode=ASYMMETRIC,
        shown_default=f"{NONE} (local stack under EdDSA/ES256: generated into `STATE_DIR/keys/`)",
    ),
    Setting(
        "JWT_PUBLIC_KEYS_FILE",
        TEXT,
        "under EdDSA/ES256: the public JWK Set (`python -m authcore.keys public PRIVATE_FILE`); a private key in "
        "it is refused",
        (API,),
        mode=ASYMMETRIC,
        shown_default=f"{NONE} (local stack: derived from the private set at each start)",
    ),
    Setting(
        "OIDC_SIGNING_KEYS_FILE",
        TEXT,
        "single sign-on: the private JWK Set of the ID-token keys (RS256, plus EdDSA and ES256 for clients that "
        "ask for them); per algorithm the first key signs, the others are published only. Unset: no OpenID "
        "Connect provider (its paths answer 404). Never given to api_service",
        (AUTH,),
        shown_default=f"{NONE} (local stack: generated into `STATE_DIR/keys/`; compose: `make env` writes "
        "`keys/oidc-signing.jwks.json` for `docker-compose.oidc.yml`)",
    ),
    Setting(
        "MFA_KEY",
        SECRET,
        "AES-256-GCM key sealing each TOTP secret at rest: 32 random bytes in base64 (`openssl rand -base64 32`; "
        "base64url works too). Several, comma-separated, for a rotation: the first seals, every one opens. A key "
        "that isn't 32 bytes, a key listed twice or an unreadable `MFA_KEY_FILE` stops the service naming the setting",
        (AUTH,),
        required=True,
        group="secrets",
        shown_default=f"{NONE} (required; `make env`, `make run`/`make up` add one to `.env`)",
    ),
    Setting(
        "POSTGRES_PASSWORD",
        PASSWORD,
        "password of the services' database role `authstack` (rows only)",
        (AUTH, POSTGRES),
        group="secrets",
        shown_default=_STORE,
    ),
    Setting(
        "POSTGRES_MIGRATION_PASSWORD",
        PASSWORD,
        "password of `authstack_migrate`, the schema's owner",
        (MIGRATE, POSTGRES),
        group="secrets",
        shown_default=_STORE,
    ),
    Setting(
        "REDIS_AUTH_PASSWORD",
        PASSWORD,
        "password of the Redis ACL user `auth_service`",
        (AUTH, REDIS),
        group="secrets",
        shown_default=_STORE,
    ),
    Setting(
        "REDIS_API_PASSWORD",
        PASSWORD,
        "password of the Redis ACL user `api_service`",
        (API, REDIS),
        group="secrets",
        shown_default=_STORE,
    ),
    # --- tokens ---
    Setting("JWT_ISSUER", TEXT, "`iss` of access tokens", _BOTH, default="authstack"),
    Setting("JWT_AUDIENCE", TEXT, "`aud` of access tokens", _BOTH, default="authstack-api"),
    Setting(
        "ACCESS_TOKEN_TTL", INT, "access-token lifetime, seconds", _BOTH, default=900, low=30, high=86400
    ),
    Setting(
        "REFRESH_TOKEN_TTL",
        INT,
        "refresh-token lifetime, seconds; each refresh slides it",
        _BOTH,
        default=1209600,
        low=60,
        high=31536000,
    ),
    Setting(
        "SESSION_MAX_LIFETIME",
        INT,
        "seconds after its login when a session can no longer be refreshed, however often it rotated; "
        "a refresh token never outlives it",
        (AUTH,),
        default=30 * 24 * 3600,
        low=300,
        high=31536000,
    ),
    # --- passwords and logins ---
    Setting(
        "MFA_REQUIRED_ROLES",
        TEXT,
        "comma-separated roles (`a-z 0-9 _ -`) a token carries only if its session passed a second factor: with "
        "`admin` here, an admin who signed in with a password alone has no admin powers until they log in with a "
        "code. Takes effect at each token's next issue (login or refresh)",
        (AUTH,),
        default="",
        shown_default="empty (off)",
    ),
    Setting(
        "BCRYPT_ROUNDS",
        INT,
        "bcrypt cost; after a change each hash moves to the new cost at its next login",
        (AUTH,),
        default=12,
        low=4,
        high=16,
    ),
    Setting(
        "PASSWORD_QUEUE_DEADLINE",
        SECONDS,
        "seconds (decimals allowed) a password check (login, signup, password change) may expect to wait for a "
        "bcrypt slot; within it the request waits, beyond it 429 with `Retry-After`. The expected wait is the time "
        "the request already queued (nginx's `X-Request-Start`) plus the checks queued ahead in the same worker "
        "× the measured time of one check. A replica runs at most `WEB_WORKERS` bcrypt checks at once, in "
        "whichever workers have checks waiting (a lock file each under the master's temporary folder)",
        (AUTH,),
        default=2.0,
        low=0.0,
        high=30.0,
    ),
    Setting(
        "LOGIN_MAX_FAILURES",
        INT,
        "failed logins per name (a username or an email, each its own counter) before throttling starts",
        (AUTH,),
        default=5,
        low=1,
        high=1000,
    ),
    Setting(
        "AUDIT_RETENTION_DAYS",
        INT,
        "audit events older than this are deleted by housekeeping",
        (AUTH,),
        default=365,
        low=1,
        high=36500,
    ),
    # --- where things are (each runner builds these) ---
    Setting(
        "DATABASE_URL",
        TEXT,
        "where Postgres is, as `authstack` (user in the URL, no password)",
        (AUTH,),
        required=True,
        runner=True,
        shown_default="built by each runner",
    ),
    Setting(
        "MIGRATION_DATABASE_URL",
        TEXT,
        "where Postgres is, as `authstack_migrate`; else `DATABASE_URL`",
        (MIGRATE,),
        runner=True,
        shown_default="built by each runner",
    ),
    Setting(
        "REDIS_URL",
        TEXT,
        "where Redis is, as each service's own ACL user",
        _BOTH,
        default="redis://127.0.0.1:6379/0",
        runner=True,
        shown_default="built by each runner",
    ),
    # --- logs, metrics, processes ---
    Setting("LOG_LEVEL", TEXT, "log level", _BOTH, default="INFO"),
    Setting(
        "LOG_FORMAT",
        CHOICE,
        "`json`: one JSON object per line; `text`: one readable line",
        _BOTH,
        default="text",
        choices=("text", "json"),
        shown_default="`text` (compose: `json`)",
    ),
    Setting(
        "METRICS_PORT",
        INT,
        "port of the internal metrics listener (0: none)",
        _BOTH,
        default=0,
        low=0,
        high=65535,
        shown_default="0 (compose: 9100; local: a free port)",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        TEXT,
        "where gunicorn's workers keep metric values; emptied at start",
        _BOTH,
        shown_default="a private temporary folder",
    ),
    Setting(
        "METRICS_ENABLED",
        BOOL,
        "off turns every metric into a no-op (what `make bench` compares against)",
        _BOTH,
        default=True,
    ),
    Setting(
        "WEB_WORKERS", INT, f"{_GUNICORN}: worker processes (one per core)", _BOTH, default=2, low=1, high=64
    ),
    Setting("WEB_THREADS", INT, f"{_GUNICORN}: threads per worker", _BOTH, default=4, low=1, high=64),
    Setting(
        "BIND",
        TEXT,
        f"{_GUNICORN}: where they listen (`host:port` or `unix:path`)",
        _BOTH,
        default="0.0.0.0:8000",
        runner=True,
        in_image=True,
    ),
    # --- nginx and gateway mode ---
    Setting("HTTP_PORT", INT, "the one published port (nginx)", (LOCAL,), default=8080, low=1, high=65535),
    Setting(
        "STATE_DIR",
        TEXT,
        "the local stack's data, logs, sockets and rendered configs (git-ignored)",
        (LOCAL,),
        default=".state/local",
    ),
    Setting(
        "PROMETHEUS_PORT",
        INT,
        'compose, profile "observability": Prometheus on 127.0.0.1 only',
        (COMPOSE,),
        default=9090,
        low=1,
        high=65535,
    ),
    Setting(
        "AUTH_RATE_LIMIT",
        TEXT,
        "per-client-address limit on `/auth/login`, `/auth/login/mfa`, `/auth/login/mfa/passkey/options`, `/auth/passkeys/login`, `/auth/passkeys/login/options`, `/auth/signup`, `/auth/refresh`, `/auth/password/forgot`, "
        "`/auth/password/reset`, `/auth/email/verify` (burst 10); `/auth/email/verify/resend` needs a bearer "
        "token and is limited per user instead",
        (NGINX,),
        default="5r/s",
    ),
    Setting(
        "APP_UPSTREAM",
        TEXT,
        "gateway mode: `host:port` of the service behind `APP_PREFIX`",
        (NGINX,),
        shown_default="`whoami:8000` (compose), the local whoami (local)",
    ),
    Setting(
        "APP_PREFIX",
        TEXT,
        "gateway mode: the protected path prefix (`/` + segments + `/`)",
        (NGINX,),
        default="/app/",
    ),
    Setting(
        "APP_ROLE",
        TEXT,
        "gateway mode: a role every request under `APP_PREFIX` needs; empty: any valid token",
        (NGINX,),
        default="",
    ),
    Setting(
        "APP_REQUIRE_MFA",
        CHOICE,
        'gateway mode: `1` lets only tokens whose session passed a second factor (`"mfa"` in `amr`) through; '
        "others get 403 `mfa_required`",
        (NGINX,),
        default="0",
        choices=("0", "1"),
    ),
    Setting(
        "AUTH_UPSTREAM",
        TEXT,
        "where nginx finds auth_service (`host:port` or `unix:path`)",
        (NGINX,),
        runner=True,
        shown_default="built by each runner",
        in_image=True,
    ),
    Setting(
        "API_UPSTREAM",
        TEXT,
        "where nginx finds api_service (`host:port` or `unix:path`)",
        (NGINX,),
        runner=True,
        shown_default="built by each runner",
        in_image=True,
    ),
    Setting(
        "NGINX_LISTEN",
        TEXT,
        "where nginx listens inside its container or host",
        (NGINX,),
        runner=True,
        shown_default="built by each runner",
        in_image=True,
    ),
    Setting(
        "NGINX_STATUS_LISTEN",
        TEXT,
        "where nginx's `stub_status` listens (internal, for its exporter)",
        (NGINX,),
        runner=True,
        shown_default="built by each runner",
        in_image=True,
    ),
    Setting(
        "NGINX_RESOLVER",
        TEXT,
        "DNS server nginx asks for service names, every 2 s; the local stack looks nothing up",
        (NGINX,),
        shown_default="the nameservers of `/etc/resolv.conf` (Docker: `127.0.0.11`)",
        in_image=True,
    ),
    Setting(
        "NGINX_UPSTREAM_RESOLVE",
        TEXT,
        "how nginx follows replicas: `resolve` on 1.27.3+ (upstream blocks, "
        "keep-alive), else per-request lookups (with `AUTH_BACKEND` / `API_BACKEND`; docs/DEPLOY.md)",
        (NGINX,),
        shown_default="chosen by the nginx image from its version",
        in_image=True,
    ),
    Setting(
        "AUTH_BACKEND",
        TEXT,
        "the nginx image's upstream name for auth_service (see `NGINX_UPSTREAM_RESOLVE`)",
        (NGINX,),
        in_image=True,
        shown_default="chosen by the nginx image",
    ),
    Setting(
        "API_BACKEND",
        TEXT,
        "the nginx image's upstream name for api_service (see `NGINX_UPSTREAM_RESOLVE`)",
        (NGINX,),
        in_image=True,
        shown_default="chosen by the nginx image",
    ),
    Setting(
        "WEB_ROOT",
        TEXT,
        "where nginx finds the page's files",
        (NGINX,),
        runner=True,
        in_image=True,
        shown_default="built by each runner",
    ),
    # --- mail ---
    Setting(
        "SMTP_URL",
        TEXT,
        "the mail server: `smtp://host[:port]` (port 25), `smtp://host:587?starttls=1` (STARTTLS, the certificate "
        "checked against the system CAs; `SSL_CERT_FILE` names another bundle), `smtps://host[:port]` (TLS from the "
        "start, port 465). Unset in auth_service itself: messages wait in the outbox",
        (AUTH,),
        shown_default=f"{NONE} (local: its mail sink; compose: `smtp://mailsink:1025`)",
    ),
    Setting("SMTP_USERNAME", TEXT, "SMTP login; refused at start over a connection without TLS", (AUTH,)),
    Setting("SMTP_PASSWORD", SECRET, "SMTP password (or `SMTP_PASSWORD_FILE`)", (AUTH,)),
    Setting("SMTP_TIMEOUT", INT, "seconds for each SMTP operation", (AUTH,), default=10, low=1, high=120),
    Setting(
        "MAIL_FROM", TEXT, "the `From:` of every message", (AUTH,), default="authstack <no-reply@localhost>"
    ),
    Setting(
        "PUBLIC_URL",
        TEXT,
        "where users reach the stack; mailed links are `PUBLIC_URL/reset-password#token=…` and "
        "`PUBLIC_URL/verify-email#token=…` (local stack: its own address); must be `https://` (the links carry "
        "tokens), `http://` only on a loopback host (`localhost`, `127.0.0.1`, `::1`)",
        (AUTH,),
        default="http://localhost:8080",
    ),
    Setting(
        "WEBAUTHN_RP_ID",
        TEXT,
        "passkeys' relying-party ID: `PUBLIC_URL`'s host or a parent domain of it (else start-up stops); "
        "every passkey is bound to it, so changing it orphans them all. A `PUBLIC_URL` whose host is an IP "
        "address turns passkeys off (one log line; their routes answer 503 `passkeys_unavailable`)",
        (AUTH,),
        default="",
        shown_default="the host of `PUBLIC_URL`",
    ),
    Setting(
        "WEBAUTHN_RP_NAME",
        TEXT,
        "the name authenticators show for this site when a passkey is made",
        (AUTH,),
        default="authstack",
    ),
    Setting(
        "RESET_TOKEN_TTL",
        INT,
        "seconds a password-reset link stays valid",
        (AUTH,),
        default=1800,
        low=60,
        high=86400,
    ),
    Setting(
        "EMAIL_VERIFICATION_TTL",
        INT,
        "seconds a verification link stays valid",
        (AUTH,),
        default=172800,
        low=300,
        high=2592000,
    ),
    Setting(
        "REQUIRE_VERIFIED_EMAIL",
        BOOL,
        "`1`/`true`/`on`: logins of accounts with an unverified address answer 403 `email_not_verified` "
        "(after the password was checked); sessions opened before it was turned on live on until they end; the "
        "admin made with the admin command counts as verified. Also the mode for those who must not tell who is "
        "registered: a signup with an address that already has an account answers 201 like a new one (nothing is "
        'made; for `EMAIL_VERIFICATION_TTL` its name is taken and logging in with its password answers 403 as for a new unverified account) and mails the owner "Someone tried to sign up with your address" (at most 5 such notices per '
        "account every 15 minutes; audited as `authn_signup_taken`)",
        (AUTH,),
        default=False,
    ),
    Setting(
        "NOTIFY_PASSWORD_CHANGE",
        BOOL,
        "mail a notice when a password is changed or reset",
        (AUTH,),
        default=True,
    ),
    Setting(
        "NOTIFY_NEW_DEVICE",
        BOOL,
        "mail a notice on a sign-in from a device (user agent) the account was not used from before; devices are "
        "remembered from the moment it is on, and an account's first device is no news; a device nobody signed in "
        "from for 180 days is forgotten by housekeeping",
        (AUTH,),
        default=False,
    ),
)


def settings_of(part: str) -> list[Setting]:
    """The settings ``part`` reads, in declaration order."""
    return [setting for setting in REGISTRY.values() if part in setting.parts]


def names() -> list[str]:
    """Every setting's name, and the ``*_FILE`` form of every secret."""
    listed = list(REGISTRY)
    listed += [f"{setting.name}_FILE" for setting in REGISTRY.values() if setting.secret]
    return listed


def docs_table() -> str:
    """The settings table of docs/OPERATIONS.md, one row per setting."""
    rows = ["| name | default | read by | meaning |", "|---|---|---|---|"]
    for setting in REGISTRY.values():
        name = f"`{setting.name}`" + (f" (or `{setting.name}_FILE`)" if setting.secret else "")
        rows.append(f"| {name} | {setting.default_text()} | {', '.join(setting.parts)} | {setting.doc} |")
    return "\n".join(rows) + "\n"


def env_example() -> str:
    """``.env.example``: the secrets to fill in, then every optional setting commented out at its default."""
    lines = [
        "# Generated from authcore/authcore/settings_registry.py by `make settings-docs`: edit it there.",
        "# `make env` (and `make run`) write .env from this with fresh secrets; docs/OPERATIONS.md explains each.",
        "# Any secret may instead be a file: JWT_SECRET_FILE=/run/secrets/jwt_secret etc.",
        "",
        '# Secrets: generate each with  python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
    ]
    # What a person chooses: not what runners compute, nor the nginx image's own knobs.
    chosen = [s for s in REGISTRY.values() if not s.runner and not s.in_image]
    for setting in (s for s in chosen if s.group == "secrets"):
        lines.append(f"{setting.name}=")
    lines += ["", "# Optional: the defaults are for production."]
    for setting in (s for s in chosen if s.group != "secrets"):
        default = "" if setting.default is None else _env_value(setting.default)
        lines.append(f"# {setting.name}={default}")
    return "\n".join(lines) + "\n"


def _env_value(default: object) -> str:
    if isinstance(default, bool):
        return "1" if default else "0"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


TABLE_START = (
    "<!-- settings table: generated by `make settings-docs` from authcore/authcore/settings_registry.py -->\n"
)
TABLE_END = "<!-- end of settings table -->\n"


def with_table(operations_md: str) -> str:
    """docs/OPERATIONS.md's text with the table between its markers written anew."""
    head, _, rest = operations_md.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    return head + TABLE_START + docs_table() + TABLE_END + tail


def write_docs(root: str) -> None:
    """Rewrite docs/OPERATIONS.md's settings table and .env.example under ``root``."""
    from pathlib import Path

    operations = Path(root, "docs", "OPERATIONS.md")
    operations.write_text(with_table(operations.read_text()))
    Path(root, ".env.example").write_text(env_example())


if __name__ == "__main__":
    if sys.argv[1:2] == ["write-docs"] and len(sys.argv) == 3:
        write_docs(sys.argv[2])
        sys.exit(0)
    commands = {"names": lambda: " ".join(names()), "table": docs_table, "env-example": env_example}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: settings_registry.py {'|'.join(commands)} | write-docs ROOT")
    print(commands[sys.argv[1]](), end="" if sys.argv[1] != "names" else "\n")
