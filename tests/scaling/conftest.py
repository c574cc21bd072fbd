"""Scaling fixtures: the stack's control command, on stacks that run replicas.

Only an orchestrated stack (compose, Swarm) can add replicas; its driver
sets ``STACK_SCALES=1`` beside ``STACK_CONTROL``. The local stack runs one
process of each part, so these tests skip there, saying why.
"""

import os

import pytest

from tests.faults.conftest import StackControl, stack  # noqa: F401  (the fixture, shared)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("STACK_SCALES") == "1":
        return
    skip = pytest.mark.skip(reason="STACK_SCALES is not 1: this stack runs one replica of each part")
    for item in items:
        if "tests/scaling/" in str(item.fspath):
            item.add_marker(skip)
