"""Artefacts and what the model predicts: the pipeline as written (in-process) and its export as the
service loads it (real: ``runtime.load`` runs the check in a real child process, then a real ONNX
Runtime session answers)."""

from pathlib import Path

import joblib
import pytest
from house_price.metadata import ModelLoadError
from house_price.model import TrainedModel, read, save
from house_price.runtime import ServingModel, load

from tests.app.conftest import VALID_HOUSE


def price(model: TrainedModel | ServingModel, **changes: object) -> float:
    return float(model.predict([{**VALID_HOUSE, **changes}])[0])


def test_predictions_are_deterministic_for_fixed_inputs(served: ServingModel, model_path: Path) -> None:
    again = load(model_path)
    assert price(served) == price(again)
    assert 150_000 < price(served) < 800_000


@pytest.mark.parametrize("location", ["urban", "rural", "waterfront"])
def test_more_floor_area_costs_more(served: ServingModel, location: str) -> None:
    prices = [price(served, sqft=sqft, location=location) for sqft in (800, 1500, 2500, 4000)]
    assert prices == sorted(prices)
    assert len(set(prices)) == len(prices)


def test_better_condition_never_costs_less(served: ServingModel) -> None:
    prices = [price(served, condition=c) for c in ("Poor", "Fair", "Good", "Excellent")]
    assert prices == sorted(prices)
    assert prices[0] < prices[-1]


def test_waterfront_costs_more_than_rural(served: ServingModel) -> None:
    assert price(served, location="waterfront") > price(served, location="rural")


def test_batch_prediction_equals_one_by_one(served: ServingModel) -> None:
    houses = [{**VALID_HOUSE, "sqft": sqft} for sqft in (900, 1800, 3600)]
    assert list(served.predict(houses)) == [price(served, sqft=h["sqft"]) for h in houses]


def test_the_served_model_prices_as_the_pipeline(served: ServingModel, trained: TrainedModel) -> None:
    for location in ("urban", "suburban", "rural", "waterfront", "mountain"):
        assert price(served, location=location) == pytest.approx(price(trained, location=location), abs=0.01)


def test_missing_artefact_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"house_price\.train"):
        load(tmp_path / "absent.joblib")


def test_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.joblib"
    joblib.dump({"weights": [1, 2, 3]}, path)
    with pytest.raises(ModelLoadError, match="not a house-price model"):
        load(path)


def test_artefact_from_another_sklearn_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "old.joblib"
    old = trained.metadata.model_copy(update={"sklearn_version": "0.24.2"})
    save(TrainedModel(pipeline=trained.pipeline, exported=trained.exported, metadata=old), path)
    with pytest.raises(ModelLoadError, match=r"0\.24\.2"):
        load(path)


def test_artefact_with_other_features_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "features.joblib"
    other = trained.metadata.model_copy(update={"features": ("sqft", "rooms")})
    save(TrainedModel(pipeline=trained.pipeline, exported=trained.exported, metadata=other), path)
    with pytest.raises(ModelLoadError, match="rooms"):
        load(path)


def test_artefact_without_training_reference_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    """An artefact made before the drift metrics: the service could not export its reference series."""
    path = tmp_path / "before-drift.joblib"
    metadata = trained.metadata.model_dump(mode="json", exclude={"reference"})
    exported = {"format": "onnx", "model": trained.exported}
    joblib.dump({"pipeline": trained.pipeline, "exported": exported, "metadata": metadata}, path)
    with pytest.raises(ModelLoadError, match=r"no training reference for the drift metrics.*house_price\.train"):
        load(path)


def test_artefact_whose_reference_bins_other_categories_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "other-categories.joblib"
    reference = trained.metadata.reference
    moved = reference.features["location"].model_copy(update={"categories": ("city", "b", "c", "d", "e")})
    other = reference.model_copy(update={"features": {**reference.features, "location": moved}})
    metadata = trained.metadata.model_copy(update={"reference": other})
    save(TrainedModel(pipeline=trained.pipeline, exported=trained.exported, metadata=metadata), path)
    with pytest.raises(ModelLoadError, match="training reference bins 'location'"):
        load(path)


def test_an_artefact_reads_back_as_written(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "again.joblib"
    save(trained, path)
    again = read(path)
    assert again.metadata == trained.metadata
    assert again.exported == trained.exported
    assert price(again) == price(trained)
