"""``python -m runner.suite [pytest args]``: a throw-away stack, the tests, and cleanup.

Starts a fresh local stack in its own state folder on free ports (so it
runs beside `make run`), runs the unit tests of both services and the
integration tests against it, and stops it again, also when tests fail.
"""

import os
import secrets
import shutil
import subprocess
import sys

from runner import __main__ as stack_commands
from runner import supervisor
from runner.settings import (
    REDIS_API_USER,
    ROOT,
    load_stack_settings,
    redis_url,
    throwaway_stack_environment,
)
from tests.stack_env import STACK_RUN_FLAG

TEST_PATHS = ("authcore/tests", "auth_service/tests", "api_service/tests", "deploy/tests", "tests")


def test_stack_environment() -> dict[str, str]:
    """Settings of the test stack: fresh secrets, fast bcrypt, its own folder and port."""
    return throwaway_stack_environment(
        state_dir=os.environ.get("TEST_STATE_DIR", str(ROOT / ".state" / "test")),
        key_id="test1",
        BCRYPT_ROUNDS="4",
        # High enough for the suite's own traffic; the rate-limit tests burst past it.
        AUTH_RATE_LIMIT="200r/s",
        # Gateway mode with a role prefix, so tests/test_gateway.py sees a 403 too.
        APP_ROLE="app-user",
        # The new-device notice is off by default; the suite checks it.
        NOTIFY_NEW_DEVICE="1",
    )


test_stack_environment.__test__ = False  # a settings builder, not a test


def create_admin(stack) -> dict[str, str]:
    """An admin made the way users make theirs (the admin command); its credentials for the tests."""
    username, password = "admin-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    stack_commands.auth_command(
        stack, "admin", username, f"{username}@example.com", stdin_text=password + "\n"
    )
    return {"ADMIN_USERNAME": username, "ADMIN_PASSWORD": password}


def main(pytest_args: list[str]) -> int:
    """Run the whole suite against a fresh stack; the exit code is pytest's."""
    os.environ.update(test_stack_environment())
    stack = load_stack_settings(new_ports=True)
    if supervisor.supervisord_pid(stack) is not None:
        print(f"a test stack is still running from {stack.state_dir}; stopping it")
        stack_commands.cmd_down(stack)
    shutil.rmtree(stack.state_dir, ignore_errors=True)
    stack = load_stack_settings(new_ports=True)
    if stack_commands.cmd_up(stack) != 0:
        return 1
    try:
        admin = create_admin(stack)
        env = {
            **stack.env,
            **admin,
            "BASE_URL": stack.base_url,
            # Tests that need the stack fail, never skip, when an address is missing.
            STACK_RUN_FLAG: "1",
            # api_service's own Redis user, for its in-process unit tests.
            "API_SERVICE_REDIS_URL": redis_url(stack.ports, REDIS_API_USER),
            # How the fault tests stop, stall and kill parts of this stack.
            "STACK_CONTROL": f"{supervisor.VENV_BIN / 'python'} -m runner",
            # Where tests/observability's Prometheus scrapes: job=host:port of each internal listener.
            "METRICS_TARGETS": ",".join(
                f"{job}=127.0.0.1:{stack.ports[port]}"
                for job, port in (
                    ("auth_service", "auth_metrics"),
                    ("api_service", "api_metrics"),
                    ("nginx", "nginx_exporter"),
                )
            ),
        }
        # TEST_PATHS in the environment narrows the run (make fuzz runs only the fuzzers).
        paths = os.environ.get("TEST_PATHS", "").split() or TEST_PATHS
        command = [str(supervisor.VENV_BIN / "python"), "-m", "pytest", *paths, *pytest_args]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        stack_commands.cmd_down(stack)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
