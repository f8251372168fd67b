"""Reading Prometheus text exposition (the backend's and Alloy's /metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from scanium_e2e.errors import EndpointError


@dataclass(frozen=True)
class TextSample:
    """One sample line of an exposition."""

    name: str
    labels: dict[str, str]
    value: float


def parse_samples(text: str) -> list[TextSample]:
    """Every sample in `text`; raises EndpointError when it is not valid exposition."""
    try:
        return [
            TextSample(sample.name, dict(sample.labels), float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]
    except (ValueError, TypeError) as exc:
        raise EndpointError(f"not Prometheus text exposition: {exc}") from None
