"""The app's metric labels survive the cluster's scrape and stay a small fixed set (real: a /metrics
scrape of the app under uvicorn, and /usr/bin/prometheus scraping it with the operator's target labels)."""

import re
from collections import defaultdict

from house_price.features import CATEGORIES, NUMERIC_FEATURES
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import CLUSTER_LABELS, Stack, requires_prometheus

# Target labels prometheus-operator sets on every series a ServiceMonitor scrapes, plus the two
# Prometheus always sets. An app label with one of these names would be renamed exported_<name>.
TARGET_LABELS = frozenset(CLUSTER_LABELS) | {"job", "instance"}
DRIFT_SERIES = ("house_price_drift_observations_total", "house_price_drift_reference_ratio")
NUMERIC_BIN = re.compile(r"\d\d: [0-9.e+<>=-]+")
MAX_NUMERIC_BINS = 10


def test_no_app_label_is_overwritten_by_a_target_label(scrape: str) -> None:
    clashes = {
        (sample.name, label)
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        for label in sample.labels
        if label in TARGET_LABELS
    }
    assert clashes == set()


@requires_prometheus
def test_scraped_series_carry_the_cluster_labels_and_keep_their_own(stack: Stack) -> None:
    [series] = stack.prometheus.query('house_price_predictions_total{handler="/predict"}')
    labels = series["metric"]
    assert {key: labels[key] for key in CLUSTER_LABELS} == CLUSTER_LABELS
    assert labels["job"] == "model"
    assert not [key for key in labels if key.startswith("exported_")]


def test_drift_labels_are_a_fixed_set_per_model(scrape: str) -> None:
    """One model's drift series are its bins (at most 10 per number, one per category); no house value becomes
    a label (tests/app/test_drift.py sends values outside the training range and finds no new series)."""
    bins: dict[str, dict[str, set[str]]] = {name: defaultdict(set) for name in DRIFT_SERIES}
    versions = set()
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if sample.name in DRIFT_SERIES:
                assert set(sample.labels) == {"model_version", "feature", "bin"}
                versions.add(sample.labels["model_version"])
                bins[sample.name][sample.labels["feature"]].add(sample.labels["bin"])
    observed, reference = (bins[name] for name in DRIFT_SERIES)
    assert observed == reference
    assert len(versions) == 1
    assert set(observed) == {*NUMERIC_FEATURES, *CATEGORIES, "prediction"}
    for feature, labels in observed.items():
        if feature in CATEGORIES:
            assert labels == set(CATEGORIES[feature])
        else:
            assert 2 <= len(labels) <= MAX_NUMERIC_BINS
            assert all(NUMERIC_BIN.fullmatch(label) for label in labels), labels
            assert sorted(int(label[:2]) for label in labels) == list(range(len(labels)))
