"""Each package's pyproject.toml lists the third-party distributions its code imports."""

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"authcore": "authcore", "auth_service": "auth_app", "api_service": "api_app"}
FIRST_PARTY = {"authcore", "auth_app", "api_app"}
# Import name -> distribution name, where they differ.
DISTRIBUTION_OF = {
    "jwt": "pyjwt",
    "psycopg_pool": "psycopg-pool",
    "email_validator": "email-validator",
    "prometheus_client": "prometheus-client",
}


def _module_level_nodes(tree: ast.AST):
    """Every node outside function bodies: an import inside a function is optional on purpose
    (e.g. the metrics listener probes Postgres only where the service has a database)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            pending.extend(ast.iter_child_nodes(node))


def imported_modules(package_dir: Path) -> set[str]:
    names = set()
    for path in package_dir.rglob("*.py"):
        for node in _module_level_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY


@pytest.mark.parametrize(("project", "package"), PACKAGES.items())
def test_every_third_party_import_is_a_declared_dependency(project, package):
    declared = set(tomllib.loads((ROOT / project / "pyproject.toml").read_text())["project"]["dependencies"])
    needed = {DISTRIBUTION_OF.get(name, name) for name in imported_modules(ROOT / project / package)}
    assert needed <= declared, f"{project} imports {sorted(needed - declared)} without declaring them"
