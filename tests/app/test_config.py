"""Service configuration from MLMON_* variables (in-process: pure functions, no server)."""

from pathlib import Path

import pytest
from house_price.config import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MODEL_PATH, ConfigError, Settings


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({})
    assert settings.model_path == DEFAULT_MODEL_PATH
    assert settings.cors_origins == ()
    assert settings.cors_allow_credentials is False
    assert settings.max_batch_size == DEFAULT_MAX_BATCH_SIZE == 1000
    assert settings.metrics_enabled is True
    assert settings.model_threads == 2


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "MLMON_MODEL_PATH": "/models/m.joblib",
            "MLMON_CORS_ORIGINS": " https://a.example , http://b.example:8080,, ",
            "MLMON_CORS_ALLOW_CREDENTIALS": "true",
            "MLMON_MAX_BATCH_SIZE": "50",
            "MLMON_METRICS_ENABLED": "false",
            "MLMON_MODEL_THREADS": "4",
        }
    )
    assert settings.model_path == Path("/models/m.joblib")
    assert settings.cors_origins == ("https://a.example", "http://b.example:8080")
    assert settings.cors_allow_credentials is True
    assert settings.max_batch_size == 50
    assert settings.metrics_enabled is False
    assert settings.model_threads == 4


def test_wildcard_origin_with_credentials_is_refused_naming_both_variables() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"MLMON_CORS_ORIGINS": "*", "MLMON_CORS_ALLOW_CREDENTIALS": "yes"})
    assert "MLMON_CORS_ORIGINS" in str(refused.value)
    assert "MLMON_CORS_ALLOW_CREDENTIALS" in str(refused.value)


def test_wildcard_origin_without_credentials_is_allowed() -> None:
    assert Settings.from_env({"MLMON_CORS_ORIGINS": "*"}).cors_origins == ("*",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MLMON_MAX_BATCH_SIZE", "0"),
        ("MLMON_MAX_BATCH_SIZE", "many"),
        ("MLMON_METRICS_ENABLED", "perhaps"),
        ("MLMON_CORS_ALLOW_CREDENTIALS", "2"),
        ("MLMON_CORS_ORIGINS", "example.com"),
        ("MLMON_MODEL_THREADS", "0"),
        ("MLMON_MODEL_THREADS", "all"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})


def test_model_version_cannot_be_overridden() -> None:
    with pytest.raises(ConfigError, match="MLMON_MODEL_VERSION"):
        Settings.from_env({"MLMON_MODEL_VERSION": "9.9.9"})


def test_unrelated_variables_are_ignored() -> None:
    assert Settings.from_env({"MLMON_CLUSTER": "kind", "PATH": "/bin"}) == Settings()
