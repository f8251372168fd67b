"""Settings: environment, overrides, secrets from files, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.settings import OFFICIAL_ALLOY_IMAGE, Settings
from scanium_e2e.stores import STORES


def test_defaults_are_the_official_images_and_a_fresh_key() -> None:
    settings = Settings.from_env({})
    assert settings.store == "mimir"
    assert settings.store_image == "grafana/mimir:2.12.0"
    assert settings.store_title == "Grafana Mimir 2.12.0"
    assert settings.images.alloy == OFFICIAL_ALLOY_IMAGE
    assert settings.api_key.startswith("sk-e2e-")
    assert settings.api_key != Settings.from_env({}).api_key
    assert settings.run_id.startswith("run-")


def test_environment_and_overrides() -> None:
    env = {
        "SCANIUM_E2E_MIMIR_IMAGE": "local/mimir:1",
        "SCANIUM_E2E_SCRAPE_INTERVAL": "2",
        "SCANIUM_E2E_RUN_ID": "from-env",
    }
    settings = Settings.from_env(env, overrides={"run_id": "from-option", "provider": None})
    assert settings.store_image == "local/mimir:1"
    assert settings.scrape_interval_s == 2.0
    assert settings.run_id == "from-option"
    assert settings.provider == "openai"


def test_secret_from_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file-123456\n")
    settings = Settings.from_env({"SCANIUM_E2E_API_KEY_FILE": str(key_file)})
    assert settings.api_key == "sk-from-file-123456"
    assert "sk-from-file-123456" in settings.secrets()


def test_secret_file_missing_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings.from_env({"SCANIUM_E2E_API_KEY_FILE": str(tmp_path / "nope")})


def test_external_mode_needs_urls_and_key() -> None:
    with pytest.raises(ConfigurationError, match="SCANIUM_E2E_BACKEND_URL"):
        Settings.from_env({"SCANIUM_E2E_STACK": "external"})
    urls = {
        "SCANIUM_E2E_STACK": "external",
        "SCANIUM_E2E_BACKEND_URL": "http://b:8080/",
        "SCANIUM_E2E_ALLOY_URL": "http://a:12345",
        "SCANIUM_E2E_MIMIR_URL": "http://m:9009",
    }
    with pytest.raises(ConfigurationError, match="API key"):
        Settings.from_env(urls)
    quiet = Settings.from_env({**urls, "SCANIUM_E2E_NO_TRAFFIC": "true"})
    assert quiet.external.backend_url == "http://b:8080"
    assert not quiet.send_traffic and quiet.api_key == ""


def test_env_file_fills_gaps(tmp_path: Path) -> None:
    env_file = tmp_path / "e2e.env"
    env_file.write_text("# comment\nSCANIUM_E2E_TENANT='team-a'\nSCANIUM_E2E_PROVIDER=claude\n")
    settings = Settings.from_env(
        {"SCANIUM_E2E_ENV_FILE": str(env_file), "SCANIUM_E2E_PROVIDER": "openai"}
    )
    assert settings.tenant == "team-a"
    assert settings.provider == "openai"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SCANIUM_E2E_STACK": "k8s"}, "stack mode 'k8s' is unknown"),
        ({"SCANIUM_E2E_PROVIDER": "gemini"}, "provider 'gemini' is unknown"),
        ({"SCANIUM_E2E_SCRAPE_INTERVAL": "fast"}, "is not a number"),
        ({"SCANIUM_E2E_KEEP_STACK": "maybe"}, "is not a boolean"),
    ],
)
def test_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_cortex_is_named_as_cortex_with_its_own_config() -> None:
    settings = Settings.from_env({"SCANIUM_E2E_STORE": "cortex"})
    assert settings.store_image == "scanium-e2e/cortex:v1.21.1"
    assert settings.store_title == "Cortex v1.21.1 (Mimir-compatible)"
    assert settings.store_kind.config_file.name == "cortex.yaml"
    assert settings.store_kind.config_file.is_file()
    assert "Mimir" not in settings.store_kind.product


def test_store_option_wins_over_the_environment() -> None:
    settings = Settings.from_env({"SCANIUM_E2E_STORE": "cortex"}, overrides={"store": "mimir"})
    assert settings.store_kind is STORES["mimir"]
    assert settings.store_kind.config_file.name == "mimir.yaml"


def test_unknown_store_names_the_allowed_values() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"SCANIUM_E2E_STORE": "prometheus"})
    message = str(caught.value)
    assert "'prometheus'" in message
    assert "mimir, cortex" in message
    assert "\n" not in message


def test_each_store_has_its_own_image_variable() -> None:
    env = {"SCANIUM_E2E_CORTEX_IMAGE": "local/cortex:1", "SCANIUM_E2E_MIMIR_IMAGE": "local/m:2"}
    assert Settings.from_env({**env, "SCANIUM_E2E_STORE": "cortex"}).store_image == "local/cortex:1"
    assert Settings.from_env({**env, "SCANIUM_E2E_STORE": "mimir"}).store_image == "local/m:2"
    # A provisioned Cortex image never stands in for Mimir.
    only_cortex = {"SCANIUM_E2E_CORTEX_IMAGE": "local/cortex:1"}
    assert Settings.from_env(only_cortex).store_image == "grafana/mimir:2.12.0"


def test_attach_mode_needs_the_project_and_the_key() -> None:
    """--stack=attach reads a stack another process started: its project and key."""
    with pytest.raises(ConfigurationError, match="SCANIUM_E2E_PROJECT"):
        Settings.from_env(env={"SCANIUM_E2E_STACK": "attach"})
    built = Settings.from_env(
        env={
            "SCANIUM_E2E_STACK": "attach",
            "SCANIUM_E2E_PROJECT": "scanium-e2e-run-1-mut-x",
            "SCANIUM_E2E_API_KEY": "sk-e2e-given",
        }
    )
    assert built.attached and not built.external_mode
    assert built.compose_project == "scanium-e2e-run-1-mut-x"
    assert built.api_key == "sk-e2e-given"
