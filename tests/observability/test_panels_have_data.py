"""Acceptance test for the dashboard: every panel query returns data against the real app.

Real: the app under uvicorn, /usr/bin/prometheus scraping it every second with the project's rules
loaded and the labels the operator adds in the cluster, after a bounded mixed load. Each panel
target, template variables resolved as Grafana would, goes through /api/v1/query and must return at
least one series with a finite value.
"""

import math

import pytest

from tests.observability import dashboard
from tests.observability.conftest import CLUSTER_LABELS, JOB, MAX_BATCH_SIZE, RATE_INTERVAL, Stack, requires_prometheus

pytestmark = requires_prometheus

# $feature as Grafana opens the dashboard (the variable's saved value), as verify resolves it.
VARIABLES = {"namespace": CLUSTER_LABELS["namespace"], "job": JOB, "feature": "sqft", "__rate_interval": RATE_INTERVAL}
DRIFT_FEATURES = ["bathrooms", "bedrooms", "condition", "location", "prediction", "sqft", "year_built"]
QUERIES = dashboard.queries(dashboard.load())


def test_the_load_was_mixed(stack: Stack) -> None:
    load = stack.load
    assert load.count(200) > 0
    assert load.count(422) > 0
    assert load.count(404) > 0
    assert load.count(413) > 0, f"no batch over the cap of {MAX_BATCH_SIZE}"


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_panel_query_returns_finite_data(stack: Stack, query: dashboard.Query) -> None:
    result = stack.prometheus.query(dashboard.resolve(query.expr, VARIABLES), at=stack.at)
    values = [float(sample["value"][1]) for sample in result]
    assert any(math.isfinite(v) for v in values), f"{query.name}: {query.expr!r} gave {result}"


@pytest.mark.parametrize("variable", ["namespace", "job"])
def test_template_variables_find_the_cluster_labels(stack: Stack, variable: str) -> None:
    templating = {v["name"]: v for v in dashboard.load()["templating"]["list"]}
    query = templating[variable]["query"]["query"]
    selector, label = query.removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
    assert stack.prometheus.label_values(label, dashboard.resolve(selector, VARIABLES)) == [VARIABLES[variable]]


def test_the_feature_variable_offers_every_input_and_the_prediction(stack: Stack) -> None:
    templating = {v["name"]: v for v in dashboard.load()["templating"]["list"]}
    query = templating["feature"]["query"]["query"]
    selector, label = query.removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
    assert stack.prometheus.label_values(label, dashboard.resolve(selector, VARIABLES)) == DRIFT_FEATURES
    assert templating["feature"]["current"]["value"] == VARIABLES["feature"]


def test_panels_see_the_traffic_the_load_sent(stack: Stack) -> None:
    """Not just any number: the 4xx ratio and the validation errors reflect the invalid calls."""
    errors = stack.prometheus.query(
        dashboard.resolve(
            'sum by (field) (rate(house_price_validation_errors_total{namespace="$namespace", job="$job"}[5m]))',
            VARIABLES,
        )
    )
    fields = {sample["metric"]["field"] for sample in errors}
    assert {"sqft", "location", "year_built", "condition", "unknown_field", "bedrooms", "houses", "body"} <= fields


def test_the_check_catches_the_seed_in_flight_panel(stack: Stack) -> None:
    """The seed chapter's "In-Flight Requests" expression, run the same way, returns nothing."""
    seed = (
        "http_request_duration_seconds_count - ignoring(le) group_left "
        "sum(http_request_duration_seconds_bucket) by (handler)"
    )
    assert stack.prometheus.query(seed) == []
