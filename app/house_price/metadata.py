"""What an artefact says about itself, readable without scikit-learn.

The serving process holds only this and the exported model; the scikit-learn pipeline is loaded
only where it is the truth (training, the parity check), never beside the request path.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SEMVER_PATTERN = r"^\d+\.\d+\.\d+$"


class ModelLoadError(RuntimeError):
    """The artefact is missing, unreadable, was not made for this service, or its export disagrees."""


class RegressionMetrics(BaseModel):
    """Scores on the held-out split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r2: float
    mae: float = Field(description="mean absolute error, dollars")
    rmse: float = Field(description="root mean squared error, dollars")


class ModelMetadata(BaseModel):
    """Everything needed to tell one artefact from another."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(pattern=SEMVER_PATTERN)
    trained_at: datetime
    features: tuple[str, ...]
    metrics: RegressionMetrics
    seed: int
    rows: int = Field(gt=0)
    sklearn_version: str
