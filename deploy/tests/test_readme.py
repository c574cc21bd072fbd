"""The README's promises hold: every make target it names exists, every path it names is there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MAKEFILES = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
# A backticked repository path: a known top-level folder or file, then anything path-like.
# The repository's own folders: .state (made by runs, git-ignored) and the like are not promises.
FOLDERS = "|".join(
    re.escape(p.name)
    for p in ROOT.iterdir()
    if p.is_dir() and (p.name == ".ci" or not p.name.startswith("."))
)
PATH = re.compile(rf"`((?:{FOLDERS})/[\w./-]*|\.env\.example|Makefile|docker-compose\.yml)`")


def _targets() -> set[str]:
    found = set()
    for makefile in MAKEFILES:
        found |= set(re.findall(r"^([a-zA-Z][\w-]*):", makefile.read_text(), flags=re.M))
    return found


def test_the_readme_is_a_short_front_door():
    assert len(README.splitlines()) <= 200


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"(?:`|^)make ([a-z][\w-]*)", README, flags=re.M))
    assert named, "the README names no make target"
    assert named <= _targets(), sorted(named - _targets())


def test_every_path_the_readme_names_exists():
    named = set(PATH.findall(README))
    assert named, "the README names no path"
    missing = sorted(path for path in named if not (ROOT / path.rstrip("/")).exists())
    assert not missing, missing
