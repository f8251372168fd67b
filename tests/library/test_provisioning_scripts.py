"""Provisioning scripts: no AGPL module is fetched, and a refused module stops at once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "build-go-component.sh"

# A go command that answers `go mod download -json` the way the proxy's refusal looks.
REFUSAL = (
    "github.com/cortexproject/cortex@v1.99.0: 403 Forbidden\\n"
    "\\tserver response: This module version is not available."
)
FAKE_GO = """#!/usr/bin/env bash
if [[ $1 == mod && $2 == download ]]; then
  cat <<'JSON'
{
	"Path": "github.com/cortexproject/cortex",
	"Version": "v1.99.0",
	"Error": "REFUSAL"
}
JSON
  exit 1
fi
echo "go version go1.26.8 linux/amd64"
""".replace("REFUSAL", REFUSAL)


def _build(tmp_path: Path, *args: str, go: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCANIUM_E2E_CACHE": str(tmp_path / "cache")}
    if go is not None:
        env["SCANIUM_E2E_GO"] = str(go)
    return subprocess.run(
        ["bash", str(BUILD), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_mimir_is_refused_before_anything_is_fetched(tmp_path: Path) -> None:
    result = _build(tmp_path, "mimir", "2.12.0")
    assert result.returncode == 1
    assert "AGPL-3.0" in result.stderr
    assert "cortex v1.21.1" in result.stderr
    assert not (tmp_path / "cache" / "logs").exists(), "nothing may be fetched for Mimir"


def test_a_refused_module_is_one_paragraph_and_no_other_version_is_tried(tmp_path: Path) -> None:
    go = tmp_path / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    result = _build(tmp_path, "cortex", "v1.99.0", go=go)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "refused github.com/cortexproject/cortex@v1.99.0" in errors[0]
    assert "This module version is not available" in errors[0]
    assert "do not guess another" in errors[0]


def test_no_script_fetches_the_mimir_module() -> None:
    for script in (REPO / "scripts").glob("*.sh"):
        for number, line in enumerate(script.read_text().splitlines(), start=1):
            if "github.com/grafana/mimir" in line:
                assert "die " in line or line.lstrip().startswith("#"), f"{script.name}:{number}"
