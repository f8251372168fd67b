"""``Config.from_env``: defaults, boolean parsing and refusals."""

from __future__ import annotations

import pytest
from scanium_backend.config import DEFAULT_EXEMPT_PATHS, Config, ConfigError, parse_bool

KEYS = {"SCANIUM_API_KEYS": "k1"}


def test_defaults() -> None:
    config = Config.from_env(KEYS)
    assert config.api_keys == ("k1",)
    assert (config.host, config.port) == ("0.0.0.0", 8080)
    assert config.provider == "mock"
    assert config.production is False
    assert config.enforce_https is True
    assert (
        config.https_exempt_paths
        == DEFAULT_EXEMPT_PATHS
        == (
            "/health",
            "/healthz",
            "/readyz",
            "/metrics",
        )
    )
    assert config.allow_insecure_http is False
    assert config.session_tokens == ()
    assert config.openai_model == "gpt-4o-mini"
    assert config.openai_base_url == "https://api.openai.com/v1"
    assert config.anthropic_base_url == "https://api.anthropic.com"
    assert (config.max_retries, config.timeout_ms) == (2, 30_000)
    assert (
        config.rate_limit_user_per_min,
        config.rate_limit_ip_per_min,
        config.rate_limit_key_per_min,
    ) == (20, 60, 60)


def test_assistant_keys_win_over_generic_keys() -> None:
    env = {"SCANIUM_ASSISTANT_API_KEYS": " a , b ,", "SCANIUM_API_KEYS": "c"}
    assert Config.from_env(env).api_keys == ("a", "b")
    assert Config.from_env({"SCANIUM_API_KEYS": "c,d"}).api_keys == ("c", "d")


def test_exempt_paths_set_empty_means_none() -> None:
    assert Config.from_env({**KEYS, "SECURITY_HTTPS_EXEMPT_PATHS": ""}).https_exempt_paths == ()
    assert Config.from_env(
        {**KEYS, "SECURITY_HTTPS_EXEMPT_PATHS": "/health, /healthz"}
    ).https_exempt_paths == ("/health", "/healthz")


def test_production_is_case_insensitive() -> None:
    assert Config.from_env({**KEYS, "NODE_ENV": "Production"}).production is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        (" on ", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_parse_bool_accepts(raw: str, expected: bool) -> None:
    assert parse_bool({"X": raw}, "X", default=not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_parse_bool_unset_or_empty_is_default(default: bool) -> None:
    assert parse_bool({}, "X", default) is default
    assert parse_bool({"X": ""}, "X", default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled", "y"])
def test_parse_bool_rejects(raw: str) -> None:
    with pytest.raises(ConfigError, match="X must be one of"):
        parse_bool({"X": raw}, "X", default=False)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "no API keys configured"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "gemini"}, "SCANIUM_ASSISTANT_PROVIDER must be"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "openai"}, "needs OPENAI_API_KEY"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "claude"}, "needs CLAUDE_API_KEY"),
        ({**KEYS, "ALLOW_INSECURE_HTTP": "sometimes"}, "ALLOW_INSECURE_HTTP must be"),
        ({**KEYS, "SECURITY_ENFORCE_HTTPS": "nope"}, "SECURITY_ENFORCE_HTTPS must be"),
        ({**KEYS, "PORT": "http"}, "PORT must be an integer"),
        ({**KEYS, "PORT": "70000"}, "PORT must be between"),
        ({**KEYS, "SCANIUM_ASSISTANT_MAX_RETRIES": "-1"}, "SCANIUM_ASSISTANT_MAX_RETRIES"),
        ({**KEYS, "SCANIUM_ASSISTANT_TIMEOUT_MS": "0"}, "SCANIUM_ASSISTANT_TIMEOUT_MS"),
        ({**KEYS, "SCANIUM_RATE_LIMIT_USER_PER_MIN": "x"}, "SCANIUM_RATE_LIMIT_USER_PER_MIN"),
    ],
)
def test_misconfiguration_is_refused(env: dict[str, str], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Config.from_env(env)


def test_repr_hides_secrets() -> None:
    config = Config.from_env(
        {
            "SCANIUM_API_KEYS": "api-secret",
            "SCANIUM_SESSION_TOKENS": "session-secret",
            "SCANIUM_ASSISTANT_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-secret",
            "CLAUDE_API_KEY": "claude-secret",
        }
    )
    text = repr(config)
    for secret in ("api-secret", "session-secret", "sk-secret", "claude-secret"):
        assert secret not in text
