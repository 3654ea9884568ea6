"""The export against its scikit-learn pipeline: the parity check, the encoder, and the service refusing
an artefact whose export is missing or disagrees (or, at start-up, that lacks the training reference).

Real throughout: real training, the real ONNX Runtime session, ``runtime.load``'s real child process,
and real uvicorn (in-process) for the service's answers.
"""

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from house_price import parity
from house_price.encoding import BY_COLUMN_FROM, EncodingError, encode
from house_price.features import (
    CONDITIONS,
    LOCATIONS,
    MAX_BATHROOMS,
    MAX_BEDROOMS,
    MAX_SQFT,
    MODEL_COLUMNS,
    OLDEST_YEAR_BUILT,
)
from house_price.metadata import ModelLoadError
from house_price.model import TrainedModel, feature_matrix, save
from house_price.runtime import PARALLEL_FROM, ServingModel, load
from house_price.train import train

from tests.app.appserver import APP_DIR, wait_until
from tests.app.conftest import VALID_HOUSE, ServeApp


@pytest.fixture(scope="module")
def image_model() -> TrainedModel:
    """The model the image builds: the training defaults."""
    return train()


@pytest.fixture(scope="module")
def other_model() -> TrainedModel:
    return train(seed=7, rows=500)


def test_the_export_prices_10000_houses_and_the_edges_as_the_pipeline(image_model: TrainedModel) -> None:
    result = parity.check(image_model)
    assert result.houses == parity.PROBE_ROWS + len(parity.edge_houses())
    assert result.disagreeing == 0
    assert result.worst_dollars <= parity.DOLLAR_TOLERANCE or result.worst_relative <= parity.RELATIVE_TOLERANCE


def test_the_edges_hold_every_category_and_every_range_bound() -> None:
    edges = parity.edge_houses(year=2026)
    assert {house["location"] for house in edges} == set(LOCATIONS)
    assert {house["condition"] for house in edges} == set(CONDITIONS)
    pairs = {(house["location"], house["condition"]) for house in edges}
    assert pairs == {(location, condition) for location in LOCATIONS for condition in CONDITIONS}
    bounds = {"sqft": MAX_SQFT, "bedrooms": MAX_BEDROOMS, "bathrooms": MAX_BATHROOMS, "year_built": 2026}
    for name, highest in bounds.items():
        assert max(house[name] for house in edges) == highest
    assert min(house["bedrooms"] for house in edges) == 0
    assert min(house["bathrooms"] for house in edges) == 0
    assert min(house["year_built"] for house in edges) == OLDEST_YEAR_BUILT
    assert min(house["sqft"] for house in edges) > 0


class SwappedCodes:
    """The export, fed with two location codes exchanged: an encoder bug the check must catch."""

    def __init__(self, model: ServingModel, first: str, second: str) -> None:
        self._model = model
        self._codes = (float(LOCATIONS.index(first)), float(LOCATIONS.index(second)))
        self.metadata = model.metadata

    def predict_encoded(self, encoded: np.ndarray) -> np.ndarray:
        column = MODEL_COLUMNS.index("location")
        first, second = self._codes
        swapped = encoded.copy()
        swapped[encoded[:, column] == first, column] = second
        swapped[encoded[:, column] == second, column] = first
        return self._model.predict_encoded(swapped)


def test_the_check_catches_an_encoding_bug(image_model: TrainedModel) -> None:
    exported = ServingModel(image_model.exported, image_model.metadata)
    with pytest.raises(parity.ParityError, match=r"disagrees with its scikit-learn pipeline on \d+ of 10640"):
        parity.check(image_model, SwappedCodes(exported, "rural", "mountain"))


def test_the_encoder_matches_the_pipelines_column_transformer(image_model: TrainedModel) -> None:
    houses = parity.probe_houses(rows=1_000)
    expected = image_model.pipeline.named_steps["encode"].transform(feature_matrix(houses)).astype(np.float64)
    assert np.array_equal(encode(houses), expected)


def test_the_encoder_encodes_a_house_alone_as_among_many() -> None:
    """Row by row below BY_COLUMN_FROM houses, by column from there: the same matrix."""
    houses = parity.probe_houses(rows=200)
    assert len(houses) >= BY_COLUMN_FROM
    alone = np.vstack([encode([house]) for house in houses])
    assert np.array_equal(encode(houses), alone)
    assert np.array_equal(encode(houses[: BY_COLUMN_FROM - 1]), alone[: BY_COLUMN_FROM - 1])


@pytest.mark.parametrize("houses", [1, BY_COLUMN_FROM])
def test_the_encoder_names_an_unknown_category(houses: int) -> None:
    with pytest.raises(EncodingError, match="moon"):
        encode([VALID_HOUSE] * (houses - 1) + [{**VALID_HOUSE, "location": "moon"}])


def test_a_large_call_runs_on_the_threads_and_prices_as_one_thread(
    image_model: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real ONNX Runtime: from PARALLEL_FROM houses a call runs on the session with ``threads``, which
    adds the trees in another order than one thread: the same prices to a millionth of a dollar
    (1.4e-9 at worst measured). Smaller calls run on one thread, as a one-thread model's exactly."""
    houses = parity.probe_houses(rows=2_000)
    one = ServingModel(image_model.exported, image_model.metadata, threads=1)
    two = ServingModel(image_model.exported, image_model.metadata, threads=2)
    assert two.threads == 2
    np.testing.assert_allclose(two.predict(houses), one.predict(houses), rtol=0, atol=1e-6)
    small = houses[: PARALLEL_FROM - 1]
    assert np.array_equal(two.predict(small), one.predict(small))

    calls: list[int] = []
    parallel_run = two._parallel.run

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return parallel_run(*args, **kwargs)

    monkeypatch.setattr(two._parallel, "run", counted)
    two.predict(small)
    assert calls == []
    two.predict(houses[:PARALLEL_FROM])
    assert calls == [1]


def tampered(trained: TrainedModel, other: TrainedModel, path: Path) -> Path:
    """The artefact's pipeline and metadata with another model's export."""
    save(TrainedModel(pipeline=trained.pipeline, exported=other.exported, metadata=trained.metadata), path)
    return path


def test_an_export_that_disagrees_is_refused(trained: TrainedModel, other_model: TrainedModel, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="disagrees with its scikit-learn pipeline"):
        load(tampered(trained, other_model, tmp_path / "tampered.joblib"))


def test_an_artefact_without_its_export_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "old.joblib"
    joblib.dump({"pipeline": trained.pipeline, "metadata": trained.metadata.model_dump(mode="json")}, path)
    with pytest.raises(ModelLoadError, match="holds no exported onnx model"):
        load(path)


def test_an_unreadable_export_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "garbled.joblib"
    save(TrainedModel(pipeline=trained.pipeline, exported=b"not onnx", metadata=trained.metadata), path)
    with pytest.raises(ModelLoadError, match="exported model cannot be loaded"):
        load(path)


@pytest.mark.parametrize("case", ["disagreeing", "without export", "without reference"])
def test_the_service_refuses_such_an_artefact_at_start_up(
    serve: ServeApp,
    trained: TrainedModel,
    other_model: TrainedModel,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    if case == "disagreeing":
        path, reason = tampered(trained, other_model, tmp_path / "m.joblib"), "disagrees with its scikit-learn pipeline"
    elif case == "without export":
        path, reason = tmp_path / "m.joblib", "holds no exported onnx model"
        joblib.dump({"pipeline": trained.pipeline, "metadata": trained.metadata.model_dump(mode="json")}, path)
    else:
        path, reason = tmp_path / "m.joblib", "holds no training reference"
        metadata = trained.metadata.model_dump(mode="json", exclude={"reference"})
        exported = {"format": "onnx", "model": trained.exported}
        joblib.dump({"pipeline": trained.pipeline, "exported": exported, "metadata": metadata}, path)
    client = serve(wait_ready=False, model_path=path)
    wait_until(lambda: client.get("/ready").json()["status"] != "loading", 60, "the check of the artefact")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "failed"
    assert reason in ready.json()["detail"]
    assert client.post("/predict", json=VALID_HOUSE).status_code == 503
    assert any(reason in record.getMessage() for record in caplog.records if record.levelname == "ERROR")


def test_the_serving_process_holds_no_scikit_learn(model_path: Path) -> None:
    """A real interpreter builds the app, loads the model as the service does and prices a house."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from house_price.api import create_app\n"
        "from house_price.runtime import load\n"
        f"load(Path(sys.argv[1])).predict([{VALID_HOUSE!r}])\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(model_path)],
        cwd=APP_DIR,
        env={"PYTHONPATH": str(APP_DIR), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = set(finished.stdout.strip().strip("[]").replace("'", "").split(", "))
    assert "onnxruntime" in modules
    assert not modules & {"sklearn", "scipy", "joblib", "onnx", "treelite", "pandas"}
