"""Secrets: masking what we know is secret, and spotting what looks secret.

`Masker` replaces known secret values (API keys, bearer tokens, canaries) in any text
before it is printed, written to an artifact or put in a JUnit report. `find_secret_shapes`
finds text that looks like a credential or PII whatever its value: key shapes, JWTs,
bearer headers, credentials in URLs, e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "***"

# Shapes of credentials and PII. Each name is reported when a check finds a match.
SECRET_SHAPES: dict[str, re.Pattern[str]] = {
    "anthropic-key": re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}"),
    "openai-key": re.compile(r"\bsk-(?!ant-)(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "bearer": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{12,}=*"),
    "url-credentials": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:[^/\s@\"']+@"),
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
}


@dataclass(frozen=True)
class SecretShapeMatch:
    """Where a secret-shaped string was found."""

    shape: str
    excerpt: str


def find_secret_shapes(text: str, ignore: Iterable[str] = ()) -> list[SecretShapeMatch]:
    """Every secret-shaped substring in `text`, excerpted and masked.

    `ignore` lists exact strings that are known to be harmless (for example the stub's
    placeholder key in a config dump).
    """
    ignored = set(ignore)
    found: list[SecretShapeMatch] = []
    for shape, pattern in SECRET_SHAPES.items():
        for match in pattern.finditer(text):
            if match.group(0) in ignored:
                continue
            found.append(SecretShapeMatch(shape, _excerpt(text, match.start(), match.end())))
    return found


def _excerpt(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 40) : start]
    secret = text[start:end]
    shown = secret[:4] + MASK if len(secret) > 8 else MASK
    after = text[end : end + 40]
    return (before + shown + after).replace("\n", " ")


class Masker:
    """Replaces known secret values with `***`; shared by logs, reports and artifacts."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Remember a value to mask; very short values are ignored (they would mask noise)."""
        if secret and len(secret) >= 6:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        """`text` with every known secret, and every key or bearer shape, replaced."""
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        for shape in ("anthropic-key", "openai-key", "jwt", "bearer"):
            text = SECRET_SHAPES[shape].sub(MASK, text)
        return text

    def __contains__(self, value: str) -> bool:
        return value in self._secrets
