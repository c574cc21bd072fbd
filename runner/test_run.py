"""``python -m runner.test_run [pytest args]``: a throw-away stack, the tests, and cleanup.

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
    free_port,
    fresh_store_passwords,
    load_stack_settings,
    redis_url,
)

TEST_PATHS = ("authcore/tests", "auth_service/tests", "api_service/tests", "tests")


def test_environment() -> dict[str, str]:
    """Settings of the test stack: fresh secrets, fast bcrypt, its own folder and port."""
    return {
        "STATE_DIR": os.environ.get("TEST_STATE_DIR", str(ROOT / ".state" / "test")),
        "HTTP_PORT": str(free_port()),
        # JWT_KEYS wins over JWT_SECRET, so set it: a developer's .env can't leak in.
        "JWT_KEYS": f"test1:{secrets.token_urlsafe(48)}",
        **fresh_store_passwords(),
        "BCRYPT_ROUNDS": "4",
        # High enough for the suite's own traffic; the rate-limit tests burst past it.
        "AUTH_RATE_LIMIT": "200r/s",
        "LOGIN_MAX_FAILURES": "5",
        "ACCESS_TOKEN_TTL": "900",
        "REFRESH_TOKEN_TTL": "1209600",
    }


def create_admin(stack) -> dict[str, str]:
    """An admin made the way users make theirs (the admin command); its credentials for the tests."""
    username, password = "admin-" + secrets.token_hex(4), secrets.token_urlsafe(16)
    stack_commands.auth_command(
        stack, "admin", username, f"{username}@example.com", stdin_text=password + "\n"
    )
    return {"ADMIN_USERNAME": username, "ADMIN_PASSWORD": password}


def main(pytest_args: list[str]) -> int:
    """Run the whole suite against a fresh stack; the exit code is pytest's."""
    os.environ.update(test_environment())
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
            # api_service's own Redis user, for its in-process unit tests.
            "API_SERVICE_REDIS_URL": redis_url(stack.ports, REDIS_API_USER),
            # How the fault tests stop, stall and kill parts of this stack.
            "STACK_CONTROL": f"{supervisor.VENV_BIN / 'python'} -m runner",
        }
        # TEST_PATHS in the environment narrows the run (make fuzz runs only the fuzzers).
        paths = os.environ.get("TEST_PATHS", "").split() or TEST_PATHS
        command = [str(supervisor.VENV_BIN / "python"), "-m", "pytest", *paths, *pytest_args]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        stack_commands.cmd_down(stack)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
