"""The asymmetric rows of `make bench`: /api/v1/me and the gateway of a stack signing with EdDSA or ES256.

A second bench stack, started like the first (release settings, its own
folder and ports) but with ``JWT_ALG=EdDSA`` (or ``ES256``) and no key file,
so the runner generates one. Its gateway uses the first stack's do-nothing
upstream. Its rows run interleaved, round by round, with the peer row of
the first stack (flask-jwt-extended), so each ratio compares like with
like. With the verified-token cache in front, a worker checks each token's
signature once; the rows measure what a request costs after that
(bench/verify_cost.py times one check).
"""

import os
import shutil
from pathlib import Path

from bench import load
from bench.stack import bench_environment, stop_stack
from runner import __main__ as stack_commands
from runner import supervisor
from runner.settings import ROOT, StackSettings, load_stack_settings

USERS = 4
LOGINS = 16
LOGIN_CONCURRENCY = 3
CONNECTIONS = 64


def start_asymmetric_stack(main: StackSettings, algorithm: str) -> StackSettings:
    """A fresh bench stack signing with ``algorithm`` beside ``main`` (sharing its gateway upstream)."""
    name = algorithm.lower()
    environment = {
        **bench_environment(),
        "STATE_DIR": os.environ.get(
            f"BENCH_{name.upper()}_STATE_DIR", str(ROOT / ".state" / f"bench-{name}")
        ),
        "JWT_ALG": algorithm,
        "APP_UPSTREAM": main.env["APP_UPSTREAM"],
    }
    os.environ.update(environment)
    # A key file named in a developer's .env must not be used: the runner generates one.
    os.environ.pop("JWT_PRIVATE_KEYS_FILE", None)
    stack = load_stack_settings(new_ports=True)
    if supervisor.supervisord_pid(stack) is not None:
        stack_commands.cmd_down(stack)
    shutil.rmtree(stack.state_dir, ignore_errors=True)
    stack = load_stack_settings(new_ports=True)
    stack.env.pop("JWT_PRIVATE_KEYS_FILE", None)
    if stack_commands.cmd_up(stack) != 0:
        raise SystemExit(f"the {algorithm} bench stack did not start")
    return stack


def measure(
    main: StackSettings,
    peer_url: str,
    peer_tokens: Path,
    password: str,
    rounds: int,
    seconds: float,
    log,
    algorithm: str = "EdDSA",
):
    """The rows of ``algorithm`` (``<alg>_me``, ``<alg>_gateway``) and the peer row, interleaved at
    c64: medians, rounds and paired ratios."""
    prefix = algorithm.lower()
    log(f"starting the {algorithm} bench stack")
    stack = start_asymmetric_stack(main, algorithm)
    try:
        usernames = load.signup_users(stack.base_url, USERS, password)
        logins = load.login_round(stack.base_url, usernames, password, LOGINS, LOGIN_CONCURRENCY)
        if logins["ok"] != logins["tried"]:
            raise RuntimeError(f"only {logins['ok']} of {logins['tried']} {algorithm} bench logins succeeded")
        token_file = stack.path("bench-tokens.txt")
        token_file.write_text("\n".join(logins["tokens"]) + "\n")
        rows = {
            f"{prefix}_me": (stack.base_url, "/api/v1/me", token_file),
            f"{prefix}_gateway": (stack.base_url, "/app/whoami", token_file),
            "peer": (peer_url, "/peer/api/v1/me", peer_tokens),
        }
        for base_url, path, tokens in rows.values():
            load.wrk(base_url, path, 16, 1, tokens)
        runs = {name: [] for name in rows}
        for index in range(rounds):
            log(f"{algorithm} rows c{CONNECTIONS} round {index + 1}/{rounds}")
            for name, (base_url, path, tokens) in rows.items():
                runs[name].append(load.wrk(base_url, path, CONNECTIONS, seconds, tokens))
    finally:
        stop_stack(stack)
    figures = {
        name: {
            "rps": load.median([r["rps"] for r in results]),
            "p99_ms": load.median([r["latency_us"]["p99"] / 1000 for r in results]),
            "errors": sum(sum(r["errors"].values()) for r in results),
            "rounds_rps": [round(r["rps"]) for r in results],
        }
        for name, results in runs.items()
    }
    peer = figures["peer"]["rounds_rps"]
    for row in (f"{prefix}_me", f"{prefix}_gateway"):
        figures[row]["over_peer"] = load.median(
            [mine / theirs for mine, theirs in zip(figures[row]["rounds_rps"], peer, strict=True) if theirs]
        )
    return figures
