"""Settings for verifying your own pipeline: --alloy-config, --dashboards, --var,
--environment, --backend-image (and their SCANIUM_E2E_* variables)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.options import parse_var_pins
from scanium_e2e.settings import DEFAULT_BACKEND_IMAGE, Settings


def test_var_pins_are_name_value_and_a_repeated_name_selects_both() -> None:
    assert parse_var_pins(["env=prod", "provider=openai", "provider=claude", "q= a=b "]) == {
        "env": ("prod",),
        "provider": ("openai", "claude"),
        "q": ("a=b",),
    }


@pytest.mark.parametrize("pin", ["env", "=prod", "1env=prod", "my-var=x"])
def test_a_bad_var_pin_is_an_error_naming_it(pin: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_var_pins([pin])
    assert repr(pin) in str(raised.value)


def test_the_variables_give_config_dashboards_pins_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.alloy"
    config.write_text("")
    one, two = tmp_path / "a.json", tmp_path / "boards"
    one.write_text("{}")
    two.mkdir()
    settings = Settings.from_env(
        {
            "SCANIUM_E2E_ALLOY_CONFIG": str(config),
            "SCANIUM_E2E_DASHBOARDS": f"{one}{os.pathsep}{two}",
            "SCANIUM_E2E_VARS": "env=prod,provider=openai",
            "SCANIUM_E2E_ENVIRONMENT": "prod",
        }
    )
    assert settings.alloy_config == config and settings.own_alloy_config
    assert settings.dashboards == (one, two)
    assert settings.dashboard_vars == {"env": ("prod",), "provider": ("openai",)}
    assert settings.environment == "prod"


def test_options_win_over_the_variables(tmp_path: Path) -> None:
    config = tmp_path / "mine.alloy"
    config.write_text("")
    settings = Settings.from_env(
        {"SCANIUM_E2E_ENVIRONMENT": "stage"},
        overrides={"alloy_config": config, "environment": "prod", "images.backend": None},
    )
    assert settings.environment == "prod" and settings.alloy_config == config


def test_by_default_the_stack_runs_our_config_and_the_e2e_environment() -> None:
    settings = Settings.from_env({})
    assert settings.alloy_config is None and not settings.own_alloy_config
    assert settings.dashboards == () and settings.dashboard_vars == {}
    assert settings.environment == "e2e"


def test_a_missing_alloy_config_or_dashboard_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no-such\.alloy .*is not a readable file"):
        Settings.from_env({"SCANIUM_E2E_ALLOY_CONFIG": str(tmp_path / "no-such.alloy")})
    with pytest.raises(ConfigurationError, match=r"gone\.json .*does not exist"):
        Settings.from_env({}, overrides={"dashboards": (tmp_path / "gone.json",)})


def test_an_environment_label_value_must_be_a_label_value() -> None:
    with pytest.raises(ConfigurationError, match="environment label"):
        Settings.from_env({"SCANIUM_E2E_ENVIRONMENT": "prod stage"})


def test_backend_image_option_keeps_the_reference_backend_for_the_variants() -> None:
    settings = Settings.from_env(
        {"SCANIUM_E2E_BACKEND_IMAGE": "local/reference:1"},
        overrides={"images.backend": "acme/backend:2.3"},
    )
    assert settings.images.backend == "acme/backend:2.3"
    assert settings.images.reference_backend == "local/reference:1"
    plain = Settings.from_env({})
    assert plain.images.backend == plain.images.reference_backend == DEFAULT_BACKEND_IMAGE
