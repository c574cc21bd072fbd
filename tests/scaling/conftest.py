"""Scaling and rollout fixtures: the stack's control command, on stacks that run replicas.

Only an orchestrated stack (compose, Swarm) can add replicas; its driver
sets ``STACK_SCALES=1`` beside ``STACK_CONTROL``. Only Swarm rolls updates
and replaces dead tasks; its driver also sets ``STACK_ROLLS=1``. Elsewhere
these tests skip, saying why.
"""

import os

import pytest

from tests.faults.conftest import StackControl, stack  # noqa: F401  (the fixture, shared)

NO_REPLICAS = "STACK_SCALES is not 1: this stack runs one replica of each part"
NO_ROLLOUTS = "STACK_ROLLS is not 1: this stack does not roll updates"


def pytest_collection_modifyitems(config, items):
    scales = os.environ.get("STACK_SCALES") == "1"
    rolls = os.environ.get("STACK_ROLLS") == "1"
    for item in items:
        path = str(item.fspath)
        if "tests/scaling/" not in path:
            continue
        if not scales:
            item.add_marker(pytest.mark.skip(reason=NO_REPLICAS))
        elif path.endswith("test_rollout.py") and not rolls:
            item.add_marker(pytest.mark.skip(reason=NO_ROLLOUTS))
