"""Plugin wiring only: the suite's options and hooks live in scanium_e2e.pytest_plugin
(registered through the package's `pytest11` entry point once it is installed; named here
too, so a checkout runs before `pip install`). The fixtures live in e2e/conftest.py."""

from __future__ import annotations

pytest_plugins = ("scanium_e2e.pytest_plugin",)
