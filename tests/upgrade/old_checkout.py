"""An older commit checked out beside this one (``git worktree add``), with a Python to run it.

The old commit's pinned requirements are a subset of this checkout's (every
pin of the old requirement files is checked against what this venv has
installed): then the old checkout gets a small venv of its own that reuses
this venv's third-party packages and puts the OLD packages (authcore,
auth_app, api_app) on the path. Its console scripts (gunicorn, supervisord)
are this venv's, rewritten to start the old checkout's Python. Where a pin
differs, it gets a full venv of its own from its requirement files (pip).
"""

import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from runner.settings import ROOT

# The old checkout's requirement files, where they exist.
REQUIREMENT_FILES = (
    "requirements-dev.txt",
    "auth_service/requirements.txt",
    "api_service/requirements.txt",
    "mailsink/requirements.txt",
)
PACKAGE_DIRS = ("authcore", "auth_service", "api_service")
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+?)(?:\[[^\]]*\])?==([^\s;#]+)")


class CheckoutError(Exception):
    """The old commit can't be checked out or given a Python."""


@dataclass
class OldCheckout:
    """An older commit's files and the Python that runs its stack."""

    commit: str
    path: Path
    python: Path
    venv_kind: str  # "shared" (this venv's packages) or "own" (installed from its pins)

    def run(
        self, args: list[str], env: dict[str, str], timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``python <args>`` in the old checkout."""
        return subprocess.run(
            [str(self.python), *args], cwd=self.path, env=env, capture_output=True, text=True, timeout=timeout
        )


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)


def add_worktree(commit: str, where: Path) -> Path:
    """Check ``commit`` out into ``where`` (detached); a clear error if this clone lacks it."""
    present = _git("cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    if not present and _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        # A shallow clone (CI systems make them): its origin has the history.
        _git("fetch", "--quiet", "--unshallow")
        present = _git("cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    if not present:
        raise CheckoutError(
            f"commit {commit} is not in this clone (a shallow clone? `git fetch --unshallow` first)"
        )
    added = _git("worktree", "add", "--detach", "--force", str(where), commit)
    if added.returncode != 0:
        raise CheckoutError(f"git worktree add {commit} failed: {added.stderr.strip()}")
    return where


def remove_worktree(where: Path) -> None:
    """Remove the checkout and git's record of it."""
    _git("worktree", "remove", "--force", str(where))
    shutil.rmtree(where, ignore_errors=True)
    _git("worktree", "prune")


def unmet_pins(checkout: Path) -> list[str]:
    """The old checkout's pins this venv does not have installed at that version."""
    unmet = []
    for name in REQUIREMENT_FILES:
        path = checkout / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            pin = PIN.match(line)
            if pin is None:
                continue
            package, version = pin.groups()
            try:
                installed = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                installed = None
            if installed != version:
                unmet.append(f"{package}=={version} (here: {installed or 'not installed'})")
    return unmet


def _shared_venv(checkout: Path, venv: Path) -> Path:
    """A venv whose path is the old packages, then this venv's site-packages (not its editable installs)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # Path lines of a .pth file are added as they are; the .pth files in
    # this venv's site-packages (its editable installs of TODAY's packages)
    # are not read, so the old ones are the only ones found.
    lines = [str(checkout / name) for name in PACKAGE_DIRS] + [sysconfig.get_paths()["purelib"]]
    Path(purelib, "upgrade_test_paths.pth").write_text("\n".join(lines) + "\n")
    here_bin = Path(sys.executable).parent
    for script in here_bin.iterdir():
        if not script.is_file() or script.name.startswith("python"):
            continue
        try:
            text = script.read_text()
        except UnicodeDecodeError:
            continue  # a binary (ruff), not a Python console script
        first, _, rest = text.partition("\n")
        interpreter = Path(first[2:].strip()) if first.startswith("#!") else None
        if (
            interpreter is not None
            and interpreter.parent == here_bin
            and interpreter.name.startswith("python")
        ):
            target = venv / "bin" / script.name
            target.write_text(f"#!{python}\n{rest}")
            target.chmod(0o755)
    return python


def _own_venv(checkout: Path, venv: Path) -> Path:
    """A venv installed from the old checkout's own requirement files, as its `make venv` did."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    for name in REQUIREMENT_FILES:
        if (checkout / name).exists():
            subprocess.run([*pip, "-r", str(checkout / name)], check=True)
    packages = [arg for name in PACKAGE_DIRS for arg in ("-e", str(checkout / name))]
    subprocess.run([*pip, "--no-deps", *packages], check=True)
    return venv / "bin" / "python"


def prepare(commit: str, where: Path) -> OldCheckout:
    """Check ``commit`` out into ``where``/checkout and give it a Python."""
    checkout = add_worktree(commit, where / "checkout")
    unmet = unmet_pins(checkout)
    venv = where / "venv"
    if unmet:
        print(f"  {commit}: pins this venv lacks ({', '.join(unmet)}): installing its own venv", flush=True)
        return OldCheckout(commit, checkout, _own_venv(checkout, venv), "own")
    return OldCheckout(commit, checkout, _shared_venv(checkout, venv), "shared")
