"""A short pre-flight run of the Alloy image on the user's config, before the stack starts.

Alloy is the only faithful reader of its own syntax: run alone (no stack, its targets
unresolvable, which does not matter), it either rejects the config at once, printing its
own error and the line it names, or evaluates every component, whose arguments its
component API then shows. That is what `stack/alloy_config.discover` reads. Measured:
about 0.6 s from `docker run` to the component list (README, "Verify your own pipeline").
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from testcontainers.core.container import DockerContainer

from scanium_e2e.clients.alloy import AlloyClient
from scanium_e2e.errors import ConfigurationError, StackError
from scanium_e2e.polling import HardError, PollAborted, PollTimeout, TransientError, poll
from scanium_e2e.stack.alloy_config import AlloyComponent, live_components

CONFIG_IN_CONTAINER = "/etc/alloy/config.alloy"
API_PORT = 12345


def alloy_rejection(log: str, config: Path) -> str:
    """Alloy's own error lines from its log (`Error: <file>:<line>:<col>: ...` and the
    source excerpt under it), the file named as the user knows it."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error: ")), None)
    if start is None:
        kept = [line for line in lines if "level=error" in line] or lines[-5:]
    else:
        # Alloy's logfmt lines interleave with its error text; the error is the rest.
        kept = [line for line in lines[start:] if not line.startswith("ts=")]
    return "\n".join(kept).strip().replace(CONFIG_IN_CONTAINER, str(config))


def read_components(
    image: str,
    config: Path,
    *,
    environment: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> list[AlloyComponent]:
    """Run `image` on `config` and return its components as Alloy evaluated them.

    Raises ConfigurationError with Alloy's own message when Alloy rejects the config (the
    container exits), StackError when the image cannot run at all.
    """
    container = (
        DockerContainer(image)
        .with_command(
            [
                "run",
                CONFIG_IN_CONTAINER,
                f"--server.http.listen-addr=0.0.0.0:{API_PORT}",
                "--storage.path=/tmp/alloy-data",
            ]
        )
        .with_volume_mapping(str(config.resolve()), CONFIG_IN_CONTAINER, "ro")
        .with_envs(**dict(environment or {}))
    )
    # Published on loopback, as the compose stacks publish theirs: Docker allocates random
    # host ports per address, so a 0.0.0.0 binding can be handed a port a 127.0.0.1 one
    # already holds ("address already in use", seen in CI). docker-py takes (ip, None).
    container.ports[f"{API_PORT}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    try:
        container.start()
    except Exception as exc:  # docker-py raises several kinds (image missing, no engine)
        raise StackError(f"could not run the Alloy image {image} to read {config}: {exc}") from None
    try:
        return _components_of(container, config, timeout_s)
    finally:
        container.stop()


def _components_of(
    container: DockerContainer, config: Path, timeout_s: float
) -> list[AlloyComponent]:
    host = "127.0.0.1"  # where its port is published (read_components), like the stacks'
    client: AlloyClient | None = None

    def probe() -> list[AlloyComponent]:
        nonlocal client
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            stdout, stderr = container.get_logs()
            log = (stdout + stderr).decode(errors="replace")
            raise HardError(alloy_rejection(log, config))
        if client is None:
            try:
                client = AlloyClient(f"http://{host}:{container.get_exposed_port(API_PORT)}")
            except Exception as exc:  # the port is published a moment after start
                raise TransientError(f"no published port yet ({exc})") from None
        return live_components(client)

    began = time.monotonic()
    try:
        result = poll(
            probe,
            lambda _: True,
            what=f"Alloy reads {config}",
            timeout_s=timeout_s,
            interval_s=0.1,
            describe=lambda found: f"{len(found)} components",
        )
    except PollAborted as exc:
        raise ConfigurationError(
            f"Alloy rejects the config {config}:\n{exc.result.hard_error}"
        ) from None
    except PollTimeout as exc:
        raise StackError(
            f"Alloy did not show the components of {config} within {timeout_s:g}s "
            f"({time.monotonic() - began:.1f}s): {exc}"
        ) from None
    finally:
        if client is not None:
            client.close()
    assert result.value is not None
    return result.value
