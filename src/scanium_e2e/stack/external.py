"""An existing deployment the suite attaches to (pre-deploy verification).

Nothing is started or stopped. Before any check runs, `preflight` visits each endpoint
with a short timeout and reports every one that is unreachable or answers wrongly, one
line each, so a wrong URL costs seconds, not a data timeout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import httpx

from scanium_e2e.clients.alloy import AlloyClient
from scanium_e2e.contract import Contract
from scanium_e2e.errors import EndpointError
from scanium_e2e.polling import TransientError
from scanium_e2e.settings import Settings
from scanium_e2e.stack import StackEndpoints
from scanium_e2e.stack.alloy_config import PipelineComponents, discover, live_components

PREFLIGHT_TIMEOUT_S = 3.0


def external_environment(endpoints: StackEndpoints, *, api_key: str, run_id: str) -> dict[str, str]:
    """The variables that point `pytest e2e/ --scanium-stack=external` at a deployment."""
    return {
        "SCANIUM_E2E_BACKEND_URL": endpoints.backend_url,
        "SCANIUM_E2E_ALLOY_URL": endpoints.alloy_url,
        "SCANIUM_E2E_MIMIR_URL": endpoints.mimir_url,
        "SCANIUM_E2E_API_KEY": api_key,
        "SCANIUM_E2E_RUN_ID": run_id,
        # The proofs run against our fixtures: the user's own dashboards and pins (set
        # for the outer run) would change their panel tests.
        "SCANIUM_E2E_DASHBOARDS": "",
        "SCANIUM_E2E_VARS": "",
        # The outer run's environment label is its started stack's: no effect (and bad
        # input) in external mode.
        "SCANIUM_E2E_ENVIRONMENT": "",
        # A proof's verdict is the outer run's business, not a second job summary.
        "GITHUB_STEP_SUMMARY": "",
        "SCANIUM_E2E_SUMMARY_MD": "",
        "SCANIUM_E2E_VERDICT_JSON": "",
    }


class ExternalStack:
    """Nothing to start or stop; logs are not ours to read."""

    started_here = False
    # None while the deployment's Alloy has the contract's scrape component; else what
    # `discover_components` found in its component API.
    components: PipelineComponents | None = None

    def __repr__(self) -> str:
        return f"ExternalStack({self.settings.external.backend_url})"

    def __init__(self, settings: Settings) -> None:
        external = settings.external
        self.settings = settings
        self.endpoints = StackEndpoints(
            backend_url=external.backend_url,
            alloy_url=external.alloy_url,
            mimir_url=external.mimir_url,
        )

    def preflight(self) -> None:
        """Raise EndpointError naming every endpoint that is unreachable or wrong."""
        headers = {"X-Scope-OrgID": self.settings.tenant} if self.settings.tenant else {}
        mimir_query = (
            self.endpoints.mimir_url + self.settings.mimir_prefix + "/api/v1/query?query=vector(1)"
        )
        checks: list[tuple[str, str, Callable[[httpx.Response], bool]]] = [
            ("backend", self.endpoints.backend_url + "/health", lambda r: r.status_code == 200),
            ("Alloy", self.endpoints.alloy_url + "/-/ready", lambda r: r.status_code == 200),
            (
                self.settings.store_kind.product,
                mimir_query,
                lambda r: r.status_code == 200 and r.json().get("status") == "success",
            ),
        ]
        problems: list[str] = []
        with httpx.Client(timeout=PREFLIGHT_TIMEOUT_S, headers=headers) as client:
            for name, url, ok in checks:
                try:
                    response = client.get(url)
                except httpx.TransportError as exc:
                    problems.append(f"{name} at {url} is unreachable ({type(exc).__name__}: {exc})")
                    continue
                try:
                    good = ok(response)
                except ValueError:
                    good = False
                if not good:
                    problems.append(
                        f"{name} at {url} answered HTTP {response.status_code}: "
                        f"{response.text.strip()[:160]}"
                    )
        if problems:
            raise EndpointError(
                "the deployment is not reachable as configured: " + "; ".join(problems) + "."
            )

    def discover_components(self, contract: Contract) -> None:
        """When the deployment's Alloy lacks the contract's scrape component (or its OTLP
        receiver), find the backend's scrape job and its remote_write, and the receiver the
        backend exports to with its route, in Alloy's component API (as for a config given
        with --scanium-alloy-config). Raises ConfigurationError when none fits."""
        client = AlloyClient(self.endpoints.alloy_url, timeout_s=PREFLIGHT_TIMEOUT_S)
        try:
            components = live_components(client)
        except (TransientError, EndpointError) as exc:
            raise EndpointError(f"Alloy's component API did not answer: {exc}") from None
        finally:
            client.close()
        ids = {component.id for component in components}
        receiver = contract.otlp.receiver if contract.otlp is not None else None
        if contract.scrape.component in ids and (receiver is None or receiver in ids):
            return
        self.components = discover(
            components,
            scrape_component=contract.scrape.component,
            remote_write_component=contract.scrape.remote_write_component,
            job=contract.scrape.job,
            in_test_stack=False,
            otlp_receiver=receiver,
        )
        self.endpoints = dataclasses.replace(self.endpoints, scrape_target=self.components.target)

    def logs(self, service: str, *, masked: bool = True) -> str:
        """External services' logs are not reachable from here."""
        return ""

    def save_logs(self, folder: Path) -> list[Path]:
        """Nothing to save."""
        return []

    def stop(self) -> None:
        """Nothing to stop."""
