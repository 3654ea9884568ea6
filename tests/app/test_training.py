"""Training data and the training script (in-process for the functions, a real
``python -m house_price.train`` subprocess for the command line)."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import sklearn
from house_price import data
from house_price.features import CONDITIONS, FEATURES, LOCATIONS
from house_price.model import read
from house_price.train import train

from tests.app.appserver import APP_DIR

ROWS = 1_000


def test_generated_data_is_deterministic_and_in_range() -> None:
    first, second = data.generate(7, ROWS), data.generate(7, ROWS)
    assert np.array_equal(first.features, second.features)
    assert np.array_equal(first.prices, second.prices)
    assert not np.array_equal(first.prices, data.generate(8, ROWS).prices)

    columns = {name: first.features[:, i] for i, name in enumerate(FEATURES)}
    assert set(columns["location"]) == set(LOCATIONS)
    assert set(columns["condition"]) == set(CONDITIONS)
    assert min(columns["sqft"]) >= 400 and max(columns["sqft"]) <= 8_000
    assert min(first.prices) >= data.MIN_PRICE


def test_same_seed_gives_identical_metrics_and_predictions() -> None:
    first = train(seed=3, rows=ROWS, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    second = train(seed=3, rows=ROWS, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    assert first.metadata.metrics == second.metadata.metrics
    assert first.metadata.trained_at != second.metadata.trained_at
    sample = data.generate(99, 50).features
    assert np.array_equal(first.pipeline.predict(sample), second.pipeline.predict(sample))


def test_another_seed_gives_other_metrics() -> None:
    assert train(seed=3, rows=ROWS).metadata.metrics != train(seed=4, rows=ROWS).metadata.metrics


def test_the_model_explains_the_held_out_prices() -> None:
    metrics = train(seed=42, rows=2_000).metadata.metrics
    assert metrics.r2 > 0.95
    assert 0 < metrics.mae < metrics.rmse


def test_command_line_writes_an_artefact_with_its_metadata(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "model.joblib"
    command = ["--out", str(out), "--rows", "500", "--seed", "5", "--version", "2.0.1"]
    finished = subprocess.run(
        [sys.executable, "-m", "house_price.train", *command],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "2.0.1" in finished.stdout
    assert out.stat().st_mode & 0o777 == 0o644, "the image's non-root user must be able to read it"
    metadata = read(out).metadata
    assert metadata.version == "2.0.1"
    assert metadata.seed == 5
    assert metadata.rows == 500
    assert metadata.features == FEATURES
    assert metadata.sklearn_version == sklearn.__version__
    assert metadata.trained_at.tzinfo is not None
    assert metadata.metrics == train(seed=5, rows=500).metadata.metrics


@pytest.mark.parametrize("arguments", [["--version", "latest"], ["--rows", "3"], []])
def test_command_line_rejects_bad_arguments(tmp_path: Path, arguments: list[str]) -> None:
    out = ["--out", str(tmp_path / "m.joblib")] if arguments else []
    finished = subprocess.run(
        [sys.executable, "-m", "house_price.train", *out, *arguments],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert not (tmp_path / "m.joblib").exists()
