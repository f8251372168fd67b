"""One masking policy for every output (`secrets.mask_shapes`): a value shaped like a
credential, a token, an e-mail address, or a query value under a secret-looking key is
masked wherever it came from: the Masker, the verdict's files, the CLIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanium_e2e.cli import main
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.secrets import Masker, mask_shapes
from scanium_e2e.verdict.causes import CauseGroup, cause_of
from scanium_e2e.verdict.summary import Verdict
from scanium_e2e.verdict.writers import append_markdown, write_json

LEAKED = 'route="/nope?email=ops.lead@example.com&token=tok_9f8e7d6c&page=2"'


def test_secret_shapes_are_masked_and_ordinary_text_is_kept() -> None:
    assert mask_shapes(LEAKED) == 'route="/nope?email=***&token=***&page=2"'
    assert mask_shapes("https://admin:hunter22@db.internal/x") == "https://***@db.internal/x"
    assert mask_shapes("?api_key=abc&session_id=s1&sig=zz") == "?api_key=***&session_id=***&sig=***"
    assert mask_shapes("Authorization: Bearer abcdefghijklmnop") == "Authorization: ***"
    plain = 'sum by (route) (rate(scanium_http_requests_total{route="/v1/assist/chat"}[5m]))'
    assert mask_shapes(plain) == plain
    assert mask_shapes("?page=2&sort=asc") == "?page=2&sort=asc"


def test_the_masker_follows_the_policy_beside_the_runs_secrets() -> None:
    masker = Masker(["run-secret-QWERTY-123"])
    assert masker.mask(f"{LEAKED} key=run-secret-QWERTY-123") == (
        'route="/nope?email=***&token=***&page=2" key=***'
    )


def test_the_verdict_files_are_masked(tmp_path: Path) -> None:
    finding = Finding(Kind.SECRET_LEAKED, subject=f"label {LEAKED}", seen="1")
    verdict = Verdict(
        counts={"failed": 1},
        seconds=1.0,
        causes=[CauseGroup(cause_of(None, finding.render()), ("t",))],
    )
    written = write_json(verdict, tmp_path / "v.json").read_text()
    summary = append_markdown(verdict, tmp_path / "s.md").read_text()
    for text in (written, summary):
        assert "ops.lead" not in text and "tok_9f8e7d6c" not in text
    assert json.loads(written)["outcome"] == "failed"


def test_what_a_command_prints_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["dashboards", "ops.lead@example.com.json", "--mimir-url", "http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ops.lead" not in err and "the dashboard file *** does not exist" in err
