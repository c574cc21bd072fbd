"""``python -m tests.upgrade [--local-only|--compose-only] [COMMIT...]``: `make upgrade-test`.

For each older commit (by default OLD_COMMITS): check it out beside this
one, start its stack, leave accounts, sessions, a revoked token and a
pending reset link behind, stop it, start THIS checkout's stack on the same
data and check through nginx that everything still works: the local stack
(tests/upgrade/local.py), then compose (tests/upgrade/compose.py). Exit 1
if anything failed. Prints how long each part took.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

from runner.settings import ROOT
from tests.upgrade import compose, local, old_checkout

# The superuser era (the services logged in as the cluster's bootstrap
# superuser, no mail) and a later main (least privilege, reset mails).
OLD_COMMITS = ("ec0aa0e", "1bb9760")


def main(argv: list[str]) -> int:
    """Upgrade from each commit; 0 if every check held."""
    commits = [arg for arg in argv if not arg.startswith("--")] or list(OLD_COMMITS)
    started = time.monotonic()
    failures: list[str] = []
    (ROOT / ".state").mkdir(exist_ok=True)
    try:
        for commit in commits:
            work = Path(tempfile.mkdtemp(prefix=f"upgrade-{commit}-", dir=ROOT / ".state"))
            # The services' OS users (postgres, redis) must reach the state folder.
            work.chmod(0o755)
            print(f"upgrade from {commit} (in {work})", flush=True)
            try:
                try:
                    old = old_checkout.prepare(commit, work)
                except (old_checkout.CheckoutError, OSError) as exc:
                    failures.append(f"{commit}: {exc}")
                    continue
                print(f"  checked out; its Python: {old.venv_kind} venv", flush=True)
                if "--compose-only" not in argv:
                    failures += [f"{commit} local: {failure}" for failure in local.run(old, work)]
                if "--local-only" not in argv:
                    failures += [f"{commit} compose: {failure}" for failure in compose.run(old, work)]
            finally:
                old_checkout.remove_worktree(work / "checkout")
                shutil.rmtree(work, ignore_errors=True)
    finally:
        compose.finish()
    print(f"upgrade-test: {len(failures)} failure(s) in {time.monotonic() - started:.0f} s")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
