"""How a test that needs the running stack finds it (every test folder imports this).

`make test` starts a throw-away stack and runs pytest with its addresses in
the environment (and ``AUTHSTACK_STACK_RUN=1``). A bare ``pytest`` or
``make unit`` has none: the tests that need the stack are skipped with the
reason, and the rest run. Under `make test` a missing address is a failure,
never a skip, so a broken runner can't hide tests.
"""

import os

import pytest

STACK_RUN_FLAG = "AUTHSTACK_STACK_RUN"


def stack_setting(name: str) -> str:
    """The value of a setting the running stack provides; skip (or fail under `make test`) without it."""
    value = os.environ.get(name)
    if value:
        return value
    message = f"{name} is not set: this test needs the running stack (`make test` starts one)"
    if os.environ.get(STACK_RUN_FLAG):
        pytest.fail(message)
    pytest.skip(message)
