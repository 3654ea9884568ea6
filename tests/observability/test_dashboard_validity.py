"""The "ML Model API" dashboard is well-formed (real: /usr/bin/promtool parses every query, and the
metric names are checked against a real scrape of the app under uvicorn)."""

import re
import subprocess
from collections import Counter
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.observability import dashboard
from tests.observability.promserver import PROMTOOL

EXPECTED_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 42  # Grafana 12.2+ / 13 (apps/dashboard/pkg/migration/schemaversion)
SAMPLE_VARIABLES = {"namespace": "house-price", "job": "model", "feature": "sqft", "__rate_interval": "1m"}
# Constants without labels, drawn as threshold lines.
THRESHOLDS = {
    "mlmon:http_latency_p95_threshold:seconds",
    "mlmon:house_price_drift_psi_threshold",
    "mlmon:house_price_prediction_shift_psi_threshold",
}


@pytest.fixture(scope="module")
def board() -> dict[str, Any]:
    return dashboard.load()


def walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) pair in a JSON document."""
    pairs = [(path, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            pairs += walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            pairs += walk(value, f"{path}[{index}]")
    return pairs


def variable_selectors(board: dict[str, Any]) -> list[str]:
    """The series selectors inside the query variables' ``label_values(selector, label)``."""
    selectors = []
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.*), \w+\)", variable["query"]["query"])
            assert match, variable["query"]
            selectors.append(match.group(1))
    return selectors


def test_identity(board: dict[str, Any]) -> None:
    assert board["uid"] == "mlmon-ml-model-api"
    assert board["title"] == "ML Model API"
    assert board["schemaVersion"] == SCHEMA_VERSION
    assert board["id"] is None


def test_rows_http_model_and_data_drift(board: dict[str, Any]) -> None:
    rows = [p["title"] for p in dashboard.panels(board) if p["type"] == "row"]
    assert rows == ["HTTP", "Model", "Data drift"]


def test_panel_ids_and_ref_ids_are_unique(board: dict[str, Any]) -> None:
    ids = Counter(panel["id"] for panel in dashboard.panels(board))
    assert [i for i, n in ids.items() if n > 1] == []
    for panel in dashboard.panels(board):
        refs = Counter(target["refId"] for target in panel.get("targets", []))
        assert [r for r, n in refs.items() if n > 1] == [], panel["title"]


def test_every_panel_has_a_unit_and_queries(board: dict[str, Any]) -> None:
    for panel in dashboard.panels(board):
        if panel["type"] == "row":
            continue
        assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        assert panel["targets"], panel["title"]


def test_datasource_is_always_the_variable_by_uid(board: dict[str, Any]) -> None:
    for path, value in walk(board):
        if path.endswith(".datasource"):
            assert not isinstance(value, str), f"string datasource at {path}"
    for panel in dashboard.panels(board):
        assert panel["datasource"] == EXPECTED_DATASOURCE, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == EXPECTED_DATASOURCE, panel["title"]


def test_template_variables(board: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert list(variables) == ["datasource", "namespace", "job", "feature"]
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == (
        "datasource",
        "prometheus",
    )
    for name in ("namespace", "job"):
        assert variables[name]["type"] == "query"
        assert variables[name]["datasource"] == EXPECTED_DATASOURCE
        assert variables[name]["query"]["query"].startswith("label_values(house_price_model_info")
    feature = variables["feature"]
    assert (feature["type"], feature["datasource"]) == ("query", EXPECTED_DATASOURCE)
    assert feature["query"]["query"] == (
        'label_values(house_price_drift_reference_ratio{namespace="$namespace", job="$job"}, feature)'
    )
    assert feature["current"]["value"] == SAMPLE_VARIABLES["feature"], "verify resolves $feature to the saved value"


def test_every_rate_uses_rate_interval(board: dict[str, Any]) -> None:
    for query in dashboard.queries(board):
        for window in re.findall(r"\[([^\]]*)\]", query.expr):
            assert window == "$__rate_interval", query.name
        assert (
            'namespace="$namespace"' in query.expr or ":" not in query.expr.split("{")[0] or query.expr in THRESHOLDS
        ), query.name


def test_every_query_filters_on_namespace_and_job(board: dict[str, Any]) -> None:
    for query in dashboard.queries(board):
        if query.expr in THRESHOLDS:
            continue
        selectors = re.findall(r"\{([^}]*)\}", query.expr)
        assert selectors, query.name
        for selector in selectors:
            assert 'namespace="$namespace"' in selector and 'job="$job"' in selector, query.name


def test_every_query_parses(board: dict[str, Any], tmp_path: Any) -> None:
    rules = [
        {"record": f"dashboard:panel_{q.panel_id}:{q.ref_id}", "expr": dashboard.resolve(q.expr, SAMPLE_VARIABLES)}
        for q in dashboard.queries(board)
    ]
    variable_queries = [v["query"]["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    for index, text in enumerate(variable_queries):
        selector = re.fullmatch(r"label_values\((.*), \w+\)", text)
        assert selector, text
        rules.append(
            {"record": f"dashboard:variable:{index}", "expr": dashboard.resolve(selector.group(1), SAMPLE_VARIABLES)}
        )
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metric_names_are_exposed_by_the_app_or_recorded(board: dict[str, Any], scrape: str) -> None:
    exposed = {sample.name for family in text_string_to_metric_families(scrape) for sample in family.samples}
    recorded = {
        rule["record"]
        for group in yaml.safe_load(dashboard.RULES_FILE.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    generated_by_prometheus = {"up"}
    used: dict[str, str] = {}
    for query in dashboard.queries(board):
        for name in dashboard.metric_names(query.expr):
            used[name] = query.name
    for selector in variable_selectors(board):
        for name in dashboard.metric_names(selector):
            used[name] = f"variable selector {selector}"
    assert used, "no metric names found: the extraction is broken"
    unknown = {name: where for name, where in used.items() if name not in exposed | recorded | generated_by_prometheus}
    assert unknown == {}


def test_metric_name_extraction() -> None:
    expr = (
        'sum by (status) (rate(http_requests_total{job="$job", status=~"4xx|5xx"}[$__rate_interval]))'
        ' / ignoring (status) group_left () mlmon:x:rate5m{job="j"} / 0.005'
    )
    assert dashboard.metric_names(expr) == {"http_requests_total", "mlmon:x:rate5m"}
