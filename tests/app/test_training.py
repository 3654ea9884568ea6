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
from house_price.features import CATEGORIES, CONDITIONS, FEATURES, LOCATIONS, NUMERIC_FEATURES
from house_price.metadata import NumericBins
from house_price.model import read
from house_price.train import HELD_OUT_FRACTION, category_bins, numeric_bins, train

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
    assert set(metadata.reference.features) == set(FEATURES)


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


def test_numeric_bins_are_the_deciles_with_a_tenth_of_the_values_each() -> None:
    bins = numeric_bins(np.arange(1, 1_001))
    assert bins.edges == (100, 200, 300, 400, 500, 600, 700, 800, 900)
    assert bins.ratios == pytest.approx([0.099, *[0.1] * 8, 0.101])


def test_coinciding_deciles_make_one_edge_and_no_bin_no_value_can_reach() -> None:
    """Bedrooms-like data: a tenth with 1, half with 2, the rest with 3 give edges 1, 2 and 3, not 1.9 or 2.4."""
    bins = numeric_bins(np.array([1] * 10 + [2] * 50 + [3] * 40))
    assert bins.edges == (1, 2, 3)
    assert bins.ratios == pytest.approx([0, 0.1, 0.5, 0.4])


def test_a_value_on_an_edge_counts_in_the_bin_above() -> None:
    bins = numeric_bins(np.array([10.0] * 5 + [20.0] * 5))
    assert bins.edges == (10, 20)
    assert bins.ratios == pytest.approx([0, 0.5, 0.5])


def test_category_shares_follow_the_category_order_and_sum_to_one() -> None:
    values = np.array(["rural", "urban", "urban", "mountain"], dtype=object)
    bins = category_bins(values, LOCATIONS)
    assert bins.categories == LOCATIONS
    assert dict(zip(bins.categories, bins.ratios, strict=True)) == {
        "urban": 0.5,
        "suburban": 0.0,
        "rural": 0.25,
        "waterfront": 0.0,
        "mountain": 0.25,
    }


def test_the_reference_describes_the_training_split_and_its_predictions() -> None:
    model = train(seed=3, rows=ROWS)
    reference = model.metadata.reference
    assert list(reference.features) == list(FEATURES)
    for name in NUMERIC_FEATURES:
        bins = reference.features[name]
        assert isinstance(bins, NumericBins)
        assert 2 <= len(bins.edges) <= 9
        assert sum(bins.ratios) == pytest.approx(1)
    for name, categories in CATEGORIES.items():
        assert reference.features[name].categories == categories
        assert sum(reference.features[name].ratios) == pytest.approx(1)
    assert len(reference.prediction.edges) == 9
    assert reference.prediction.ratios == pytest.approx([0.1] * 10, abs=0.01)
    training_rows = ROWS - int(ROWS * HELD_OUT_FRACTION)
    for bins in (*reference.features.values(), reference.prediction):
        houses = np.array(bins.ratios) * training_rows
        assert houses == pytest.approx(np.round(houses)), "shares of the training split, not of all rows"
