"""The model artefact: what it holds, how it is saved and loaded, and how it prices houses.

An artefact is a joblib file (a pickle: load only artefacts you built) holding a dict with the
fitted scikit-learn ``pipeline`` and its ``metadata``. The metadata's version is the one the
service reports; nothing overrides it.
"""

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sklearn.pipeline import Pipeline

from house_price.features import FEATURES

SEMVER_PATTERN = r"^\d+\.\d+\.\d+$"
# Readable by everyone: the image copies the artefact built as root and serves it as UID 10001.
ARTEFACT_MODE = 0o644


class ModelLoadError(RuntimeError):
    """The artefact is missing, unreadable or was not made for this service."""


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


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline and its metadata."""

    pipeline: Pipeline
    metadata: ModelMetadata

    def predict(self, houses: Sequence[Mapping[str, object]]) -> np.ndarray:
        """Prices in dollars, one per house, from a single vectorised pipeline call."""
        return self.pipeline.predict(feature_matrix(houses))


def feature_matrix(houses: Sequence[Mapping[str, object]]) -> np.ndarray:
    """Rows in ``FEATURES`` order as the object array the pipeline was fitted on."""
    matrix = np.empty((len(houses), len(FEATURES)), dtype=object)
    for row, house in enumerate(houses):
        matrix[row] = [house[name] for name in FEATURES]
    return matrix


def save(model: TrainedModel, path: Path) -> None:
    """Write the artefact atomically: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"pipeline": model.pipeline, "metadata": model.metadata.model_dump(mode="json")}
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(descriptor)
    try:
        os.chmod(temporary, ARTEFACT_MODE)
        joblib.dump(payload, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> TrainedModel:
    """Read an artefact and check it fits this service, or raise ``ModelLoadError``."""
    if not path.is_file():
        raise ModelLoadError(
            f"no model artefact at {path}; train one with "
            f"`python -m house_price.train --out {path}` or set MLMON_MODEL_PATH"
        )
    try:
        payload = joblib.load(path)
    except Exception as error:
        raise ModelLoadError(f"cannot read model artefact {path}: {error}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("pipeline"), Pipeline):
        raise ModelLoadError(f"{path} is not a house-price model artefact")
    try:
        metadata = ModelMetadata.model_validate(payload.get("metadata"))
    except ValidationError as error:
        raise ModelLoadError(f"{path} has invalid metadata: {error}") from error
    if metadata.features != FEATURES:
        raise ModelLoadError(
            f"{path} was trained on features {list(metadata.features)}, this service sends {list(FEATURES)}"
        )
    if metadata.sklearn_version != sklearn.__version__:
        raise ModelLoadError(
            f"{path} was trained with scikit-learn {metadata.sklearn_version}, this service runs "
            f"{sklearn.__version__}; retrain it with this service's environment"
        )
    return TrainedModel(pipeline=payload["pipeline"], metadata=metadata)
