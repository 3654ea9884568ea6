"""The model artefact: what it holds, how it is saved and read back, and how its pipeline prices houses.

An artefact is a joblib file (a pickle: load only artefacts you built) holding a dict with the
fitted scikit-learn ``pipeline`` (the source of truth), its ``metadata`` and the ``exported`` model
(ONNX, made at training time by ``house_price.export``) that the service answers requests with. The
metadata's version is the one the service reports; nothing overrides it. The metadata's ``reference``
(the training distribution) is what the service's drift metrics compare live traffic with.

Reading an artefact imports scikit-learn; the service does it in a child process
(``house_price.runtime.load``), so that its own memory holds only the exported model.
"""

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import sklearn
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from house_price.features import CATEGORIES, FEATURES
from house_price.metadata import CategoryBins, ModelLoadError, ModelMetadata, NumericBins, Reference

# Readable by everyone: the image copies the artefact built as root and serves it as UID 10001.
ARTEFACT_MODE = 0o644
EXPORT_FORMAT = "onnx"


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline, its exported twin (serialised ONNX) and their metadata."""

    pipeline: Pipeline
    exported: bytes
    metadata: ModelMetadata

    def predict(self, houses: Sequence[Mapping[str, object]]) -> np.ndarray:
        """Prices in dollars, one per house, from the scikit-learn pipeline (the truth, not the fast path)."""
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
    payload = {
        "pipeline": model.pipeline,
        "exported": {"format": EXPORT_FORMAT, "model": model.exported},
        "metadata": model.metadata.model_dump(mode="json"),
    }
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(descriptor)
    try:
        os.chmod(temporary, ARTEFACT_MODE)
        joblib.dump(payload, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> TrainedModel:
    """Read an artefact and check it fits this service, or raise ``ModelLoadError``.

    It does not run the exported model: ``house_price.parity`` checks that it agrees with the pipeline.
    """
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
    if isinstance(payload.get("metadata"), dict) and "reference" not in payload["metadata"]:
        raise ModelLoadError(
            f"{path} holds no training reference for the drift metrics in its metadata (made before the service "
            f"exported them?); retrain it with `python -m house_price.train --out {path}`"
        )
    try:
        metadata = ModelMetadata.model_validate(payload.get("metadata"))
    except ValidationError as error:
        raise ModelLoadError(f"{path} has invalid metadata: {error}") from error
    if metadata.features != FEATURES:
        raise ModelLoadError(
            f"{path} was trained on features {list(metadata.features)}, this service sends {list(FEATURES)}"
        )
    _check_reference(metadata.reference, path)
    if metadata.sklearn_version != sklearn.__version__:
        raise ModelLoadError(
            f"{path} was trained with scikit-learn {metadata.sklearn_version}, this service runs "
            f"{sklearn.__version__}; retrain it with this service's environment"
        )
    exported = payload.get("exported")
    if (
        not isinstance(exported, dict)
        or exported.get("format") != EXPORT_FORMAT
        or not isinstance(exported.get("model"), bytes)
    ):
        raise ModelLoadError(
            f"{path} holds no exported {EXPORT_FORMAT} model beside its pipeline (made before the service "
            f"served one?); retrain it with `python -m house_price.train --out {path}`"
        )
    return TrainedModel(pipeline=payload["pipeline"], exported=exported["model"], metadata=metadata)


def _check_reference(reference: Reference, path: Path) -> None:
    """Every feature binned as this service bins it: numbers by edges, categories by this service's values."""
    if set(reference.features) != set(FEATURES):
        raise ModelLoadError(
            f"{path}'s training reference covers features {sorted(reference.features)}, this service sends "
            f"{sorted(FEATURES)}"
        )
    for name, bins in reference.features.items():
        if name in CATEGORIES:
            fits = isinstance(bins, CategoryBins) and bins.categories == CATEGORIES[name]
            expected = f"one bin per category of {list(CATEGORIES[name])}"
        else:
            fits = isinstance(bins, NumericBins)
            expected = "bin edges"
        if not fits:
            raise ModelLoadError(f"{path}'s training reference bins {name!r} as {bins}, this service needs {expected}")
