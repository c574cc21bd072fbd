"""Rendering the one nginx template for the local stack.

compose renders the same file with the official image's envsubst step; this
does the same substitution (only the named variables, ``${NAME}`` form) and
wraps it in the small main config nginx needs outside a container.
"""

import grp
import re
from pathlib import Path

from runner.datastores import StackError, app_user, service_socket
from runner.settings import ROOT, StackSettings

TEMPLATE = ROOT / "nginx" / "templates" / "default.conf.template"
WEB_ROOT = ROOT / "web"
PLACEHOLDER = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
# Gateway-mode settings land inside nginx directives: only plain values pass.
APP_PREFIX_SHAPE = re.compile(r"/(?:[A-Za-z0-9._-]+/)+")
APP_ROLE_SHAPE = re.compile(r"[A-Za-z0-9._:-]*")
RESERVED_PREFIXES = ("/auth/", "/api/", "/_error/", "/_gateway/")

MAIN_CONFIG = """\
# Rendered by runner/nginx_config.py for the local stack; do not edit.
daemon off;
{user}
worker_processes auto;
pid {state}/run/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {state}/nginx/tmp/body;
    proxy_temp_path {state}/nginx/tmp/proxy;
    fastcgi_temp_path {state}/nginx/tmp/fastcgi;
    uwsgi_temp_path {state}/nginx/tmp/uwsgi;
    scgi_temp_path {state}/nginx/tmp/scgi;
    include {state}/nginx/conf.d/*.conf;
}}
"""


def render_template(text: str, values: dict[str, str]) -> str:
    """Replace each ``${NAME}``; fail on a placeholder with no value."""

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise StackError(f"the nginx template needs {name}")
        return values[name]

    return PLACEHOLDER.sub(substitute, text)


def gateway_values(env: dict[str, str]) -> dict[str, str]:
    """APP_UPSTREAM, APP_PREFIX, APP_ROLE and APP_REQUIRE_MFA, checked; raise ``StackError`` on a bad one."""
    prefix, role = env["APP_PREFIX"], env["APP_ROLE"]
    require_mfa = env.get("APP_REQUIRE_MFA", "").strip() or "0"
    if require_mfa not in ("0", "1"):
        raise StackError(f"APP_REQUIRE_MFA must be 0 or 1: {require_mfa!r}")
    if not APP_PREFIX_SHAPE.fullmatch(prefix) or prefix.startswith(RESERVED_PREFIXES):
        raise StackError(f"APP_PREFIX must look like /app/ and not be one of the stack's own: {prefix!r}")
    if not APP_ROLE_SHAPE.fullmatch(role):
        raise StackError(f"APP_ROLE must be a role name or empty: {role!r}")
    if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+:[0-9]+", env["APP_UPSTREAM"]):
        raise StackError(f"APP_UPSTREAM must be host:port: {env['APP_UPSTREAM']!r}")
    return {
        "APP_UPSTREAM": env["APP_UPSTREAM"],
        "APP_PREFIX": prefix,
        "APP_ROLE": role,
        "APP_REQUIRE_MFA": require_mfa,
    }


def write_nginx_config(stack: StackSettings) -> Path:
    """Write the rendered configs into the state folder; return the main config path."""
    values = {
        "AUTH_UPSTREAM": f"unix:{service_socket(stack, 'auth_service')}",
        "API_UPSTREAM": f"unix:{service_socket(stack, 'api_service')}",
        "NGINX_LISTEN": f"127.0.0.1:{stack.http_port}",
        "AUTH_RATE_LIMIT": stack.env["AUTH_RATE_LIMIT"],
        "WEB_ROOT": str(WEB_ROOT),
        **gateway_values(stack.env),
        "NGINX_STATUS_LISTEN": f"127.0.0.1:{stack.ports['nginx_status']}",
        # Fixed addresses: proxy_pass goes to the upstream blocks (keep-alive)
        # and nothing is ever looked up, so the resolver is never asked.
        "NGINX_RESOLVER": "127.0.0.1",
        "NGINX_UPSTREAM_RESOLVE": "",
        "AUTH_BACKEND": "auth_service",
        "API_BACKEND": "api_service",
    }
    conf_d = stack.path("nginx", "conf.d")
    conf_d.mkdir(parents=True, exist_ok=True)
    stack.path("nginx", "tmp").mkdir(parents=True, exist_ok=True)
    (conf_d / "default.conf").write_text(render_template(TEMPLATE.read_text(), values))
    main = stack.path("nginx", "nginx.conf")
    # Started as root, the workers run as nobody in the services' group: the
    # one group that may open the services' sockets.
    owner = app_user()
    user = f"user nobody {grp.getgrgid(owner.pw_gid).gr_name};" if owner else ""
    main.write_text(MAIN_CONFIG.format(state=stack.state_dir, user=user))
    return main
