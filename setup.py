"""Build hook only (the project's metadata is in pyproject.toml): a wheel carries the suite
and every file it needs (e2e/, fixtures/, the compose file, the provisioning scripts) inside
the package, as `scanium_e2e/_root/` (scanium_e2e.resources finds them there), so a team's
repository needs no copy of ours. An editable install reads them from the checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What the suite reads at run time, relative to the checkout's root.
CARRIED = ("e2e", "fixtures", "scripts", "docker-compose.test.yml")
# Never carried: build and run leftovers (prepared wheels, caches, artifacts).
LEFT_OUT = shutil.ignore_patterns("wheels", "__pycache__", "*.pyc", "e2e-artifacts", ".*")


class BuildWithSuite(build_py):
    """`build_py`, then the suite's files copied into the built package."""

    def run(self) -> None:
        super().run()
        root = Path(self.build_lib) / "scanium_e2e" / "_root"
        if root.exists():
            shutil.rmtree(root)
        for name in CARRIED:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=LEFT_OUT)
            elif source.is_file():
                root.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root / name)


setup(cmdclass={"build_py": BuildWithSuite})
