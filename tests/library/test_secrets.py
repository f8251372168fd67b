"""Masking known secrets and spotting secret shapes."""

from __future__ import annotations

import pytest

from scanium_e2e.secrets import MASK, Masker, find_secret_shapes


def test_masker_masks_known_values_and_key_shapes() -> None:
    masker = Masker(["my-session-token-value"])
    text = "key=sk-e2e-0123456789abcdef01234567 token=my-session-token-value short=abc"
    masked = masker.mask(text)
    assert "sk-e2e-0123456789abcdef01234567" not in masked
    assert "my-session-token-value" not in masked
    assert masked.count(MASK) == 2 and "short=abc" in masked


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwx", "openai-key"),
        ("x-api-key: sk-ant-api03-abcdefghijklmnop", "anthropic-key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpM", "jwt"),
        ("Authorization: Bearer abcdefghijklmnop", "bearer"),
        ("url=https://user:hunter2@example.org/x", "url-credentials"),
        ("contact jane.doe@example.com now", "email"),
    ],
)
def test_secret_shapes(text: str, shape: str) -> None:
    found = find_secret_shapes(text)
    assert shape in {match.shape for match in found}
    for match in found:
        assert "hunter2" not in match.excerpt


def test_ordinary_labels_have_no_secret_shape() -> None:
    text = 'scanium_assistant_requests_total{provider="openai",status="success"} 3'
    assert find_secret_shapes(text) == []
