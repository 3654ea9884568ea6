"""Service settings, read once from ``MLMON_*`` environment variables.

=============================== ======================================== =======================
variable                        meaning                                  default
=============================== ======================================== =======================
MLMON_MODEL_PATH                the joblib artefact to serve             artifacts/model.joblib
                                                                         beside this package
MLMON_CORS_ORIGINS              comma-separated allowed origins; empty   (empty)
                                means no CORS middleware at all
MLMON_CORS_ALLOW_CREDENTIALS    allow cookies/auth on CORS requests;     false
                                refused together with origin ``*``
MLMON_MAX_BATCH_SIZE            most houses in one /batch-predict        1000
MLMON_METRICS_ENABLED           ``false`` turns off every metric and     true
                                the /metrics endpoint
MLMON_MODEL_THREADS             threads a model call of 128 houses or    2
                                more may use (ONNX Runtime's intra-op
                                threads; smaller calls always take
                                one): a 1,000-house batch holds the
                                event loop 1 ms less on two. Set 1
                                where a CPU limit allows under 2 cores
MLMON_DRILL_ERROR_RATIO         drills only: share (0..1) of /predict    0
                                and /batch-predict requests answered
                                500, every k-th one (house_price.drill)
MLMON_DRILL_LATENCY_SECONDS     drills only: seconds added to each       0
                                /predict and /batch-predict request
=============================== ======================================== =======================

The model version is never configured: the artefact's metadata is the truth, so
``MLMON_MODEL_VERSION`` is refused rather than silently ignored.
"""

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "artifacts" / "model.joblib"
DEFAULT_MAX_BATCH_SIZE = 1000

ENV_VARS: dict[str, str] = {
    "model_path": "MLMON_MODEL_PATH",
    "cors_origins": "MLMON_CORS_ORIGINS",
    "cors_allow_credentials": "MLMON_CORS_ALLOW_CREDENTIALS",
    "max_batch_size": "MLMON_MAX_BATCH_SIZE",
    "metrics_enabled": "MLMON_METRICS_ENABLED",
    "model_threads": "MLMON_MODEL_THREADS",
    "drill_error_ratio": "MLMON_DRILL_ERROR_RATIO",
    "drill_latency_seconds": "MLMON_DRILL_LATENCY_SECONDS",
}
REFUSED_ENV_VARS: dict[str, str] = {
    "MLMON_MODEL_VERSION": "the model version comes from the artefact's metadata; retrain "
    "with `python -m house_price.train --version X.Y.Z` instead",
}


class ConfigError(ValueError):
    """The environment describes a configuration the service refuses to run with."""


class Settings(BaseModel):
    """Validated service settings; build them with ``Settings.from_env``."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model_path: Path = DEFAULT_MODEL_PATH
    cors_origins: tuple[str, ...] = ()
    cors_allow_credentials: bool = False
    max_batch_size: int = Field(default=DEFAULT_MAX_BATCH_SIZE, ge=1, le=100_000)
    metrics_enabled: bool = True
    model_threads: int = Field(default=2, ge=1, le=64)
    # A bad release on purpose, for canary drills: never set in a real deployment.
    drill_error_ratio: float = Field(default=0.0, ge=0.0, le=1.0, allow_inf_nan=False)
    drill_latency_seconds: float = Field(default=0.0, ge=0.0, le=60.0, allow_inf_nan=False)

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_urls(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not '*' nor an http(s):// origin")
        return origins

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> "Settings":
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError(
                "MLMON_CORS_ORIGINS contains '*' while MLMON_CORS_ALLOW_CREDENTIALS is true: "
                "browsers reject credentials for a wildcard origin and allowing every site to "
                "send them is unsafe; list the allowed origins or set "
                "MLMON_CORS_ALLOW_CREDENTIALS=false"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Read the ``MLMON_*`` variables; raise ``ConfigError`` naming the culprits."""
        for name, reason in REFUSED_ENV_VARS.items():
            if name in environ:
                raise ConfigError(f"{name} is not supported: {reason}")
        raw: dict[str, object] = {}
        for field, variable in ENV_VARS.items():
            value = environ.get(variable, "").strip()
            if not value:
                continue
            if field == "cors_origins":
                raw[field] = tuple(part.strip() for part in value.split(",") if part.strip())
            else:
                raw[field] = value
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            raise ConfigError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors():
        fields = [part for part in detail["loc"] if isinstance(part, str)]
        message = detail["msg"].removeprefix("Value error, ")
        if fields:
            problems.append(f"{ENV_VARS.get(fields[0], fields[0])}: {message}")
        else:
            problems.append(message)
    return "invalid service configuration: " + "; ".join(problems)
