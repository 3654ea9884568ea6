"""The houses verify's warm-up sends for the drift panels are enough for a PSI and look like the training data.

Real: the app's own data generator and training split (house_price.data, house_price.train), binned as the
drift reference is (deciles of the training values for numbers, categories otherwise); PSI as the recording rule
computes it.
"""

import json

import numpy as np
import pytest
import yaml
from house_price import data, train
from house_price.features import CATEGORIES, FEATURES
from sklearn.model_selection import train_test_split

from tests.app.appserver import REPO_ROOT

HOUSES_FILE = REPO_ROOT / "roles" / "verify" / "files" / "drift_houses.json"
SERVICE_MONITOR_DEFAULTS = REPO_ROOT / "roles" / "service_monitor" / "defaults" / "main.yml"
SEED, COUNT = 14, 300
HOUSES = json.loads(HOUSES_FILE.read_text())


def training_split() -> np.ndarray:
    """x_train of the model the image is built with (train's defaults)."""
    dataset = data.generate(train.DEFAULT_SEED, train.DEFAULT_ROWS)
    x_train, *_ = train_test_split(
        dataset.features, dataset.prices, test_size=train.HELD_OUT_FRACTION, random_state=train.DEFAULT_SEED
    )
    return x_train


def bin_indices(name: str, values: np.ndarray, training: np.ndarray) -> tuple[np.ndarray, int]:
    if name in CATEGORIES:
        return np.array([CATEGORIES[name].index(value) for value in values]), len(CATEGORIES[name])
    edges = np.unique(np.quantile(training.astype(float), np.linspace(0.1, 0.9, 9)))
    return np.searchsorted(edges, values.astype(float), side="right"), len(edges) + 1


def psi(live: np.ndarray, reference: np.ndarray) -> float:
    live, reference = np.maximum(live, 0.0001), np.maximum(reference, 0.0001)
    return float(((live - reference) * np.log(live / reference)).sum())


def test_the_file_is_the_generators_sample() -> None:
    rows = data.generate(SEED, COUNT).features
    expected = [
        {name: value if isinstance(value, str) else float(value) for name, value in zip(FEATURES, row, strict=True)}
        for row in rows
    ]
    assert [{name: house[name] for name in FEATURES} for house in HOUSES] == expected


def test_there_are_enough_for_the_default_minimum() -> None:
    minimum = yaml.safe_load(SERVICE_MONITOR_DEFAULTS.read_text())["service_monitor_drift_min_observations"]
    assert len(HOUSES) >= minimum


@pytest.mark.parametrize("position", range(len(FEATURES)), ids=FEATURES)
def test_they_do_not_drift(position: int) -> None:
    name = FEATURES[position]
    training = training_split()[:, position]
    live, bins = bin_indices(name, np.array([house[name] for house in HOUSES], dtype=object), training)
    reference, _ = bin_indices(name, training, training)
    index = psi(np.bincount(live, minlength=bins) / len(live), np.bincount(reference, minlength=bins) / len(reference))
    assert index < 0.05, f"{name}: PSI {index:.3f}"
