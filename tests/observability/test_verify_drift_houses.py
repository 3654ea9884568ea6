"""The houses verify's warm-up prices fill the drift window without moving the PSI of any feature or the price.

Real: the model the image is built with (house_price.train with its defaults, saved and loaded as the service
loads it), its training reference, the service's own binning (house_price.drift.DriftCounts) of the committed
warm-up houses and of their predicted prices; PSI as the recording rule computes it.
"""

import json
import math

import pytest
import yaml
from house_price.drift import PREDICTION, DriftCounts
from house_price.encoding import encode
from house_price.features import FEATURES
from house_price.model import save
from house_price.runtime import ServingModel, load
from house_price.train import train

from tests.app.appserver import REPO_ROOT

HOUSES = json.loads((REPO_ROOT / "files" / "verify" / "warmup_houses.json").read_text())
SERVICE_MONITOR_DEFAULTS = yaml.safe_load(
    (REPO_ROOT / "roles" / "service_monitor" / "defaults" / "main.yml").read_text()
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ServingModel:
    path = tmp_path_factory.mktemp("warmup") / "model.joblib"
    save(train(), path)
    return load(path)


def psi_per_feature(model: ServingModel) -> dict[str, float]:
    counts = DriftCounts(model.metadata)
    counts.observe(encode(HOUSES), model.predict(HOUSES).tolist())
    bins: dict[str, list[tuple[float, int]]] = {}
    for feature, _, ratio, count in counts.series():
        bins.setdefault(feature, []).append((ratio, count))
    index = {}
    for feature, pairs in bins.items():
        total = sum(count for _, count in pairs)
        index[feature] = sum(
            (live - ref) * math.log(live / ref)
            for live, ref in ((max(count / total, 0.0001), max(ratio, 0.0001)) for ratio, count in pairs)
        )
    return index


def test_the_warmup_reaches_the_default_minimum() -> None:
    assert len(HOUSES) >= SERVICE_MONITOR_DEFAULTS["service_monitor_drift_min_observations"]


def test_the_warmup_moves_no_psi(model: ServingModel) -> None:
    index = psi_per_feature(model)
    assert sorted(index) == sorted([*FEATURES, PREDICTION])
    moved = {feature: round(value, 3) for feature, value in index.items() if value >= 0.1}
    assert moved == {}, f"PSI of the warm-up houses: {index}"
