"""The runner's one way to start a child as another user drops root's groups too."""

import json
import os
import pwd
import subprocess
import sys

import pytest

from runner import __main__ as stack_commands
from runner import datastores
from runner.demote import as_user

SHOW_IDS = "import json, os; print(json.dumps([os.getuid(), os.getgid(), os.getgroups()]))"


def test_every_demotion_in_the_runner_is_the_one_helper():
    assert datastores.as_user is as_user
    assert stack_commands.as_user is as_user


def test_no_user_means_no_change():
    assert as_user(None) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can become another user")
def test_the_child_keeps_none_of_roots_groups():
    nobody = pwd.getpwnam("nobody")
    child = subprocess.run(
        [sys.executable, "-c", SHOW_IDS],
        preexec_fn=as_user(nobody),
        capture_output=True,
        text=True,
        check=True,
    )
    uid, gid, groups = json.loads(child.stdout)
    assert (uid, gid) == (nobody.pw_uid, nobody.pw_gid)
    assert set(groups) <= {nobody.pw_gid}, groups
