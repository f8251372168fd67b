"""Canaries: unique fake secrets and PII that the traffic plants, so leaks can be found.

Every run generates fresh values, so a canary found in Mimir's labels, the backend's
/metrics or any log can only have come from this run's traffic. Each value is shaped like
the real thing (an OpenAI-style key, a JWT, an e-mail address) so that shape-based
scanners are exercised too, but none of them is valid anywhere.

Where each one is planted (see `PLACEMENTS`):

- `api_key`: `X-API-Key` of an unauthorized `POST /v1/assist/chat` (expect 401);
- `bearer_token`: `Authorization: Bearer ...` of another unauthorized request;
- `email`, `prompt_phrase`: inside the message of a successful chat request, which the
  backend forwards to the LLM;
- `header_value`, `user_agent`: `X-Canary-Header` and the `User-Agent` of that request;
- `query_token`, `query_email`: `?token=...&email=...` of a `GET` to an unknown route
  (expect 404), where a careless backend would log or label the raw URL;
- `provider_text`: told to the stub LLM (`[[stub:error_ref=...]]`) in each request that
  injects a fault, which quotes it in the provider's error message, where a backend that
  copies provider text into a label or a log would carry it.

The random part of each value is a `distinct_token` (letters that never occur in hex or
words), so a fragment of it found anywhere is a leak, not a coincidence (`RunSecrets`).

A `Canaries` object never shows its values in `repr`; print them only through a `Masker`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Final

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.secrets import distinct_token

# Reserved for documentation (RFC 2606): mail to it can never reach anyone.
EMAIL_DOMAIN: Final = "example.com"
CANARY_HEADER: Final = "X-Canary-Header"

PLACEMENTS: Final[Mapping[str, str]] = {
    "api_key": "X-API-Key of an unauthorized POST /v1/assist/chat",
    "bearer_token": "Authorization: Bearer of an unauthorized POST /v1/assist/chat",
    "email": "message text of a successful POST /v1/assist/chat",
    "prompt_phrase": "message text of a successful POST /v1/assist/chat",
    "header_value": f"{CANARY_HEADER} header of a successful POST /v1/assist/chat",
    "user_agent": "User-Agent header of a successful POST /v1/assist/chat",
    "query_token": "query string (token=) of a GET to an unknown route",
    "query_email": "query string (email=) of a GET to an unknown route",
    "provider_text": "the stub LLM's error message of every injected fault",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _fake_jwt() -> str:
    """A JWT-shaped string (header.payload.signature) that no issuer ever signed."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": f"canary-{distinct_token(16)}", "iat": int(time.time())}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    # The signature's characters are all base64url ones.
    return f"{header}.{payload}.{distinct_token(43)}"


@dataclass(frozen=True)
class Canaries:
    """One run's planted values; every field is a distinct random string."""

    api_key: str = field(repr=False)
    bearer_token: str = field(repr=False)
    email: str = field(repr=False)
    prompt_phrase: str = field(repr=False)
    header_value: str = field(repr=False)
    user_agent: str = field(repr=False)
    query_token: str = field(repr=False)
    query_email: str = field(repr=False)
    provider_text: str = field(repr=False)

    @classmethod
    def generate(cls) -> Canaries:
        """Fresh values; independent randomness per value, so a finding names its channel."""
        return cls(
            # Matches the openai-key shape of `secrets.SECRET_SHAPES` on purpose.
            api_key=f"sk-canary-{distinct_token(32)}",
            bearer_token=_fake_jwt(),
            email=f"canary.{distinct_token(12)}@{EMAIL_DOMAIN}",
            prompt_phrase=f"canary-phrase-{distinct_token(12)}-tangerine-lighthouse",
            header_value=f"hdr-canary-{distinct_token(24)}",
            # Only the token is the canary; the User-Agent header wraps it (see user_agent_header).
            user_agent=f"ua-canary-{distinct_token(20)}",
            query_token=f"qs-canary-{distinct_token(24)}",
            query_email=f"canary.qs.{distinct_token(12)}@{EMAIL_DOMAIN}",
            provider_text=f"pt-canary-{distinct_token(20)}",
        )

    def values(self) -> list[str]:
        """Every planted string, for leak scans and for the Masker."""
        return [getattr(self, spec.name) for spec in fields(self)]

    def named(self) -> dict[str, str]:
        """Name -> value (the JSON ledger's form)."""
        return {spec.name: getattr(self, spec.name) for spec in fields(self)}

    @classmethod
    def from_named(cls, named: Mapping[str, object]) -> Canaries:
        """Rebuild from `named()` output; raise ConfigurationError when a value is missing."""
        values: dict[str, str] = {}
        for spec in fields(cls):
            value = named.get(spec.name)
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"the ledger's canaries lack a value for {spec.name}.")
            values[spec.name] = value
        return cls(**values)

    def user_agent_header(self, base: str) -> str:
        """A User-Agent that carries the canary, like a product comment would."""
        return f"{base} ({self.user_agent})"

    def __repr__(self) -> str:
        return f"Canaries({len(fields(self))} values hidden)"
