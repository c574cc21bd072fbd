"""``python -m tests.upgrade.todays_stack ENV_FILE up|down|mail ...``: this checkout's runner on another .env.

Exactly ``python -m runner`` (as `make up` runs it), except that the .env it
reads, and adds missing secrets to as it does to any older one, is the one
the old version wrote: the upgrade keeps the user's .env, and this checkout's
own .env is never read or written.
"""

import sys
from pathlib import Path

from runner import __main__ as runner_main
from runner import settings


def main(argv: list[str]) -> int:
    """Run the runner command ``argv[1:]`` with ``argv[0]`` as its .env."""
    settings.ENV_FILE = Path(argv[0]).resolve()
    return runner_main.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
