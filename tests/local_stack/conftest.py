"""Tests of the local runner itself (`make run`'s stop, demotion, upgrades in place).

They import the runner and start stacks of their own, so they exist only
where the runner does: the suite image of compose and Swarm (tests only)
leaves them out at collection.
"""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("runner") else ["test_*.py"]
