"""Running a child process as another OS user (when the runner is root)."""

import os
import pwd
from collections.abc import Callable


def as_user(user: pwd.struct_passwd | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child ``user``; None (stay as we are) when ``user`` is None.

    Supplementary groups go first: root's would otherwise stay with the
    child (group root, say), whatever its uid and gid become.
    """
    if user is None:
        return None

    def demote() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return demote
