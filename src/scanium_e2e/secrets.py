"""Secrets: masking what we know is secret, and spotting what looks secret.

`RunSecrets` holds a run's secrets: whole values, and the 6-character fragments of each
(and of its base64) that are as secret as the whole (`client="sk-e2e-0"` holds a fragment of
a key). `Masker` replaces them in any text before it is printed, written to an artifact or
put in a JUnit report. `find_secret_shapes` finds text that looks like a credential or PII
whatever its value: key shapes, JWTs, bearer headers, credentials in URLs, e-mail addresses.
"""

from __future__ import annotations

import base64
import re
import secrets as random_source
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

MASK = "***"
# A run of this many characters of a secret, found anywhere, is a leak of it.
FRAGMENT_LENGTH: Final = 6
# The random parts of the secrets the suite makes are drawn from letters that never occur in
# hex, decimal or UUID text (no a-f, no digits) nor in words (no vowels): a 6-character run
# of one found in a log is a fragment of it, not a coincidence with a request id.
DISTINCT_ALPHABET: Final = "ghjkmnpqrstvwxyzGHJKMNPQRSTVWXYZ"
# A canary's random part: the runs of that alphabet at least this long.
_DISTINCT_RUN: Final = re.compile(f"[{DISTINCT_ALPHABET}]{{8,}}")
# Without a digit or a capital letter, a window reads like words and punctuation.
_WORDLIKE: Final = re.compile(r"^[^0-9A-Z]+$")


def distinct_token(length: int) -> str:
    """`length` random characters of DISTINCT_ALPHABET (5 bits each)."""
    return "".join(random_source.choice(DISTINCT_ALPHABET) for _ in range(length))


def distinct_parts(value: str) -> list[str]:
    """The random parts of a value the suite made (`distinct_token` runs)."""
    return _DISTINCT_RUN.findall(value)


def _encodings(value: str) -> list[str]:
    """`value` and its base64 forms, at each of the three byte alignments, so the base64
    of any long enough piece of it contains a window of one of them."""
    raw = value.encode()
    forms = [value]
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.append(encode(raw[offset:]).decode("ascii").rstrip("="))
    return forms


class RunSecrets:
    """A run's secrets: whole values, and the windows that make a fragment of one.

    `add` takes a credential (the run's API key, a bearer token): every 6-character window
    of it is secret but word-like ones. `add_canary` takes a planted canary: its fixed
    wording ("canary", "example.com") is not, only its random part (`distinct_parts`).
    """

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._windows: set[str] = set()

    def add(self, secret: str, *, canary: bool = False) -> None:
        """Remember `secret` and its windows (a canary's: those of its random part only).

        A window without a digit or a capital letter outside a random part is left out: it
        reads like words ("scanium-traffic" in a key someone chose), and words in a log are
        no leak. Values shorter than a fragment are ignored (masking them would mask noise).
        """
        if not secret or len(secret) < FRAGMENT_LENGTH:
            return
        self.values.add(secret)
        random_parts = distinct_parts(secret)
        for source in random_parts if canary else [secret]:
            for form in _encodings(source):
                for i in range(len(form) - FRAGMENT_LENGTH + 1):
                    window = form[i : i + FRAGMENT_LENGTH]
                    if _WORDLIKE.match(window) and not any(window in r for r in random_parts):
                        continue
                    self._windows.add(window)

    def add_canary(self, value: str) -> None:
        """Remember a planted canary: whole, and fragments of its random part."""
        self.add(value, canary=True)

    def whole(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every whole secret in `text`, longest secrets first."""
        found = []
        for secret in sorted(self.values, key=len, reverse=True):
            start = text.find(secret)
            while start >= 0:
                found.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        return found

    def fragments(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every run of `text` made of secret windows, merged."""
        spans: list[tuple[int, int]] = []
        windows = self._windows
        for i in range(len(text) - FRAGMENT_LENGTH + 1):
            if text[i : i + FRAGMENT_LENGTH] in windows:
                end = i + FRAGMENT_LENGTH
                if spans and i <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((i, end))
        return spans

    def __contains__(self, value: str) -> bool:
        return value in self.values

    def __len__(self) -> int:
        return len(self.values)


# Shapes of credentials and PII. Each name is reported when a check finds a match.
SECRET_SHAPES: dict[str, re.Pattern[str]] = {
    "anthropic-key": re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}"),
    "openai-key": re.compile(r"\bsk-(?!ant-)(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "bearer": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{12,}=*"),
    "url-credentials": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:[^/\s@\"']+@"),
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
}


# How each shape is masked in output: the whole match, but the URL scheme of credentials
# in a URL, and the key of a query parameter whose name reads like a secret or PII.
_URL_CREDENTIALS: Final = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s:@\"']+:[^/\s@\"']+@")
_SECRET_QUERY: Final = re.compile(
    r"(?i)([?&;][a-z0-9_.-]*(?:token|key|secret|passw|pwd|auth|session|sig|credential|"
    r"e?mail|cookie)[a-z0-9_.-]*=)[^&\s#\"'<>]*"
)
_MASKED_WHOLE: Final = ("anthropic-key", "openai-key", "jwt", "bearer", "email")


def mask_shapes(text: str) -> str:
    """`text` with every value shaped like a credential, a token, an e-mail address, or a
    query value under a secret-looking key replaced: the policy every output follows,
    whatever the value and wherever it came from (a Masker adds the run's known secrets)."""
    text = _URL_CREDENTIALS.sub(r"\1" + MASK + "@", text)
    text = _SECRET_QUERY.sub(r"\1" + MASK, text)
    for shape in _MASKED_WHOLE:
        text = SECRET_SHAPES[shape].sub(MASK, text)
    return text


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
    """Replaces known secrets and their fragments with `***`; shared by logs, reports and
    artifacts."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = RunSecrets()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Remember a credential to mask, whole and in fragments (short values are ignored)."""
        self.secrets.add(secret)

    def add_canary(self, value: str) -> None:
        """Remember a planted canary to mask, whole and in fragments of its random part."""
        self.secrets.add_canary(value)

    def mask(self, text: str) -> str:
        """`text` with every known secret, every fragment of one, and every value shaped
        like a secret (`mask_shapes`) replaced."""
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self.secrets.values, key=len, reverse=True):
            text = text.replace(secret, MASK)
        for start, end in reversed(self.secrets.fragments(text)):
            text = text[:start] + MASK + text[end:]
        return mask_shapes(text)

    def __contains__(self, value: str) -> bool:
        return value in self.secrets

    def __repr__(self) -> str:
        # Never the secrets themselves, not even in a traceback.
        return f"Masker({len(self.secrets)} secrets)"
