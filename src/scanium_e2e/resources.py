"""Where the suite's own files are: its tests (`e2e/`), fixtures, compose file and
provisioning scripts.

In a checkout they are the source tree. Installed from a wheel they are the copy the wheel
carries inside the package (`scanium_e2e/_root/`, the same layout): a team's repository
needs none of them, and runs the suite from anywhere (`scanium-e2e run`).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# src/scanium_e2e -> the checkout's root.
_CHECKOUT = PACKAGE.parents[1]
# The wheel's copy of the files below (pyproject: [tool.setuptools.data-files] is not
# importable; the build copies them into the package under this name).
_PACKAGED = PACKAGE / "_root"


def _holds_the_suite(root: Path) -> bool:
    return (root / "e2e" / "conftest.py").is_file() and (root / "fixtures").is_dir()


# The folder holding e2e/, fixtures/, docker-compose.test.yml and scripts/.
ROOT = _CHECKOUT if _holds_the_suite(_CHECKOUT) else _PACKAGED
# True when running from a wheel's copy rather than a checkout.
INSTALLED = ROOT == _PACKAGED
SUITE_DIR = ROOT / "e2e"


def suite_dirs() -> list[Path]:
    """The folders whose collection makes a pytest run the suite's."""
    return [SUITE_DIR]
