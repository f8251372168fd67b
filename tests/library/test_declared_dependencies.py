"""Every third-party package the library imports is declared in pyproject.toml.

An undeclared import works in this checkout only because something else pulled the package
in (`requests` came with prometheus-api-client); a `pip install` elsewhere, or that
dependency dropping it, breaks the suite at import time.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from scanium_e2e.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "scanium_e2e"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it (`PyYAML` = `pyyaml`, `a_b` = `a-b`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_top_level_modules(root: Path) -> dict[str, list[str]]:
    """Top-level module -> the files (relative to `root`) that import it, absolute imports only."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue  # relative imports stay inside the package
            for name in names:
                found.setdefault(name.split(".")[0], []).append(str(path.relative_to(root)))
    return found


def third_party(modules: dict[str, list[str]]) -> dict[str, list[str]]:
    """The modules that are neither the standard library's nor the package's own."""
    return {
        module: files
        for module, files in modules.items()
        if module not in sys.stdlib_module_names and module != "scanium_e2e"
    }


def declared_distributions(pyproject: Path) -> set[str]:
    """Normalised names of `[project].dependencies` in `pyproject`."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {normalise(Requirement(line).name) for line in project["dependencies"]}


def undeclared(
    imports: dict[str, list[str]],
    declared: set[str],
    distributions: dict[str, list[str]],
) -> list[str]:
    """One line per imported module whose distribution is not declared (or not installed)."""
    problems = []
    for module, files in sorted(imports.items()):
        where = ", ".join(sorted(set(files)))
        owners = distributions.get(module)
        if not owners:
            problems.append(f"{module} (imported by {where}) belongs to no installed distribution")
        elif not {normalise(owner) for owner in owners} & declared:
            problems.append(
                f"{module} (imported by {where}) comes from {', '.join(sorted(owners))}, "
                "which [project].dependencies does not declare"
            )
    return problems


def test_every_imported_third_party_package_is_declared() -> None:
    imports = third_party(imported_top_level_modules(PACKAGE))
    declared = declared_distributions(REPO_ROOT / "pyproject.toml")
    problems = undeclared(imports, declared, dict(importlib.metadata.packages_distributions()))
    assert not problems, "undeclared dependencies of src/scanium_e2e:\n" + "\n".join(problems)
    # The walk itself found what the library is built on (a broken walk would pass vacuously).
    assert {"httpx", "requests", "urllib3", "yaml"} <= set(imports)


def test_an_undeclared_import_is_named_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text(
        "import json\nimport requests.adapters\nfrom yaml import safe_load\n"
        "from . import sibling\nfrom scanium_e2e.errors import ConfigurationError\n"
    )
    imports = third_party(imported_top_level_modules(tmp_path))
    assert set(imports) == {"requests", "yaml"}  # no stdlib, no relative, no own package
    problems = undeclared(imports, {"pyyaml"}, {"requests": ["requests"], "yaml": ["PyYAML"]})
    assert problems == [
        "requests (imported by client.py) comes from requests, which [project].dependencies "
        "does not declare"
    ]
    assert undeclared({"nowhere": ["x.py"]}, set(), {}) == [
        "nowhere (imported by x.py) belongs to no installed distribution"
    ]
