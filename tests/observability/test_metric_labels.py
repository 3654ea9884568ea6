"""The app's metric labels survive the cluster's scrape (real: a /metrics scrape of the app under
uvicorn, and /usr/bin/prometheus scraping it with the operator's target labels)."""

from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import CLUSTER_LABELS, Stack, requires_prometheus

# Target labels prometheus-operator sets on every series a ServiceMonitor scrapes, plus the two
# Prometheus always sets. An app label with one of these names would be renamed exported_<name>.
TARGET_LABELS = frozenset(CLUSTER_LABELS) | {"job", "instance"}


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
