"""Every bench module still imports, so a name moved elsewhere fails `make unit`, not the next `make bench`.

`make bench` runs rarely; a refactor that moves a name (a settings default,
a runner module) breaks it without any test noticing. These tests import
each module of bench/ (which starts nothing: the stack starts in ``main``),
and check every name bench/ takes from the project's own packages, also in
the modules whose bench-only libraries a fresh `make venv` lacks.
"""

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1]
MODULE_FILES = sorted(BENCH.glob("*.py"))
# The project's own packages: a name bench/ takes from them must exist.
FIRST_PARTY = {"authcore", "auth_app", "api_app", "runner", "bench"}
# Installed by `make bench` only (bench/requirements.txt), never by `make venv`.
BENCH_ONLY = {
    line.split("==")[0].strip().lower().replace("-", "_")
    for line in (BENCH / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
}


# What the bench's gunicorn programs get from bench/stack.py (nothing is connected at import).
PROGRAM_ENV = {
    "BENCH_APP": "bench.ceiling_app:app",
    "PEER_JWT_SECRET": "unit-test-secret-not-used-for-anything-0123456789",
    "PEER_JWT_ISSUER": "authstack",
    "PEER_JWT_AUDIENCE": "authstack-api",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def import_bench_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import one file of bench/ the way its users load it (the programs with their environment)."""
    for name, value in PROGRAM_ENV.items():
        monkeypatch.setenv(name, value)
    if path.name == "gunicorn_bench.conf.py":
        # gunicorn reads it as a file (`-c`), with the app named in BENCH_APP.
        spec = importlib.util.spec_from_file_location("bench_gunicorn_conf", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    name = "bench" if path.stem == "__init__" else f"bench.{path.stem}"
    return importlib.import_module(name)


def first_party_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import of a first-party module in ``path``; name None for ``import x``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FIRST_PARTY:
                found += [(node.module, alias.name) for alias in node.names if alias.name != "*"]
                found += [(node.module, None)] if any(a.name == "*" for a in node.names) else []
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] in FIRST_PARTY]
    return found


def test_the_bench_has_modules_to_check():
    """The glob finds bench/ (a moved folder must not make the other tests pass vacuously)."""
    names = {path.name for path in MODULE_FILES}
    assert {"__main__.py", "stack.py", "eddsa.py", "load.py", "peer_app.py"} <= names


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: path.name)
def test_every_name_taken_from_the_project_exists(path: Path):
    """Each ``from authcore/runner/bench… import name`` resolves (also where the module can't be imported)."""
    missing = []
    for module_name, name in first_party_imports(path):
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            missing.append(f"{module_name}: {error}")
            continue
        if name is None or hasattr(module, name):
            continue
        try:
            importlib.import_module(f"{module_name}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{module_name}.{name}")
    assert not missing, f"{path.name} imports names that no longer exist: {missing}"


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: path.name)
def test_every_bench_module_imports(path: Path, monkeypatch: pytest.MonkeyPatch):
    """The module imports; only a bench-only library (installed by `make bench`) may be missing."""
    try:
        import_bench_file(path, monkeypatch)
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root not in BENCH_ONLY:
            raise
        pytest.skip(f"{root} is installed by `make bench` (bench/requirements.txt); names checked above")
