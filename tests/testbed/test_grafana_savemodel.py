"""Column: real (stand-in process). What ``GET /api/dashboards/uid`` gives back differs from what was posted.

Grafana 12 stores the dashboard after its schema migration adds defaults and cleans the
model, and writes JSON with Go's encoder; a role that byte-compares (or ``==``-compares)
the posted dashboard with the stored one must fail here, as it would against Grafana.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin

POSTED: dict[str, object] = {
    "uid": "norm-full",
    "title": "ML Model API",
    "schemaVersion": 39,
    "tags": ["mlmon"],
    "refresh": "30s",
    "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                             "index": 0, "current": {"text": "Prometheus", "value": None}}]},
    "panels": [
        {"type": "stat", "title": "Up", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 4},
         "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "targets": [{"expr": "up"}], "options": {}, "transparent": False,
         "fieldConfig": {"defaults": {"unit": "s"}}},
        {"type": "graph", "title": "Requests", "id": 7, "gridPos": {"x": 0, "y": 0, "w": 12,
                                                                   "h": 4},
         "targets": [{"expr": "rate(http_requests_total[5m])", "refId": "A"}],
         "description": None, "x-mlmon-owner": "role"},
    ],
    "meta": {"canSave": False},
    "style": "dark",
    "gnetId": None,
}


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_grafana_standin.url,
                      auth=shared_grafana_standin.admin_auth) as client:
        yield client


@pytest.fixture(scope="module")
def stored(admin: httpx.Client) -> dict[str, object]:
    saved = admin.post("/api/dashboards/db", json={"dashboard": POSTED})
    assert saved.status_code == 200, saved.text
    dashboard = admin.get("/api/dashboards/uid/norm-full").json()["dashboard"]
    assert isinstance(dashboard, dict)
    return dashboard


def _panel(stored: dict[str, object], title: str) -> dict[str, object]:
    panels = stored["panels"]
    assert isinstance(panels, list)
    return next(p for p in panels if p.get("title") == title)


def test_naive_compare_with_what_was_posted_fails(stored: dict[str, object]) -> None:
    assert stored != POSTED
    without_identity = {k: v for k, v in stored.items() if k not in ("id", "uid", "version")}
    assert without_identity != {k: v for k, v in POSTED.items() if k != "uid"}


def test_identity_fields_are_added(stored: dict[str, object]) -> None:
    assert stored["uid"] == "norm-full"
    assert stored["version"] == 1
    assert isinstance(stored["id"], int)


def test_dashboard_defaults_are_filled_in(stored: dict[str, object]) -> None:
    assert {key: stored[key] for key in (
        "editable", "graphTooltip", "time", "timepicker", "links", "fiscalYearStartMonth",
        "timezone", "weekStart", "schemaVersion")} == {
        "editable": True, "graphTooltip": 0, "time": {"from": "now-6h", "to": "now"},
        "timepicker": {}, "links": [], "fiscalYearStartMonth": 0, "timezone": "",
        "weekStart": "", "schemaVersion": 42}
    assert "liveNow" not in stored
    assert stored["tags"] == ["mlmon"]
    assert stored["refresh"] == "30s"


def test_built_in_annotation_is_added(stored: dict[str, object]) -> None:
    annotations = stored["annotations"]
    assert isinstance(annotations, dict)
    assert annotations["list"] == [{
        "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts", "type": "dashboard"}]


def test_transient_and_default_dashboard_keys_are_dropped(stored: dict[str, object]) -> None:
    for key in ("meta", "style", "gnetId"):
        assert key not in stored


def test_panels_get_ids_ref_ids_and_lose_defaults(stored: dict[str, object]) -> None:
    up = _panel(stored, "Up")
    assert up["id"] == 8, "a new id is one more than the largest id in the dashboard"
    assert up["targets"] == [{"expr": "up", "refId": "A"}]
    assert "options" not in up and "transparent" not in up
    assert up["fieldConfig"] == {"defaults": {"unit": "s"}, "overrides": []}


def test_angular_graph_becomes_timeseries(stored: dict[str, object]) -> None:
    requests = _panel(stored, "Requests")
    assert (requests["type"], requests["autoMigrateFrom"], requests["id"]) == \
        ("timeseries", "graph", 7)


def test_unknown_fields_are_kept_and_nulls_dropped(stored: dict[str, object]) -> None:
    requests = _panel(stored, "Requests")
    assert requests["x-mlmon-owner"] == "role"
    assert "description" not in requests


def test_panels_are_ordered_by_grid_position(stored: dict[str, object]) -> None:
    panels = stored["panels"]
    assert isinstance(panels, list)
    assert [p["title"] for p in panels] == ["Requests", "Up"]


def test_template_variables_are_cleaned(stored: dict[str, object]) -> None:
    templating = stored["templating"]
    assert isinstance(templating, dict)
    assert templating["list"] == [{"name": "datasource", "type": "datasource",
                                   "query": "prometheus", "current": {"text": "Prometheus"},
                                   "options": []}]


def test_json_is_written_as_go_writes_it(admin: httpx.Client, stored: dict[str, object]) -> None:
    """Sorted keys, HTML-escaped ``&``, integral floats without a fraction."""
    raw = admin.get("/api/dashboards/uid/norm-full").text
    document = json.loads(raw)
    assert list(document) == ["meta", "dashboard"]
    keys = list(document["dashboard"])
    assert keys == sorted(keys)
    assert list(document["dashboard"]["panels"][0]) == sorted(document["dashboard"]["panels"][0])
    assert '"name":"Annotations \\u0026 Alerts"' in raw
    saved = admin.post("/api/dashboards/db", json={"dashboard": {
        "title": "Floats", "uid": "norm-floats", "schemaVersion": 42.0,
        "panels": [{"type": "stat", "gridPos": {"x": 0.0, "y": 1.0, "w": 6, "h": 3}}]}})
    assert saved.status_code == 200
    text = admin.get("/api/dashboards/uid/norm-floats").text
    assert '"schemaVersion":42' in text
    assert '"gridPos":{"h":3,"w":6,"x":0,"y":1}' in text


def test_resaving_what_get_returned_is_stable(admin: httpx.Client,
                                              stored: dict[str, object]) -> None:
    """Normalising is idempotent: posting the stored model back stores the same model."""
    again = admin.post("/api/dashboards/db", json={"dashboard": copy.deepcopy(stored)})
    assert again.json()["version"] == 2
    reread = admin.get("/api/dashboards/uid/norm-full").json()["dashboard"]
    assert {k: v for k, v in reread.items() if k != "version"} == \
        {k: v for k, v in stored.items() if k != "version"}


def test_old_schema_gets_v40_to_v42_migrations(admin: httpx.Client) -> None:
    posted = {"title": "Old", "uid": "norm-old", "schemaVersion": 36, "refresh": False,
              "timepicker": {"time_options": ["5m"], "refresh_intervals": ["10s"]},
              "panels": [{"type": "timeseries", "title": "Hidden", "gridPos": {
                  "x": 0, "y": 0, "w": 12, "h": 8}, "fieldConfig": {"defaults": {}, "overrides": [
                      {"matcher": {"id": "byName", "options": "x"}, "properties": [
                          {"id": "custom.hideFrom", "value": {"viz": True, "legend": False}}]}]}}]}
    assert admin.post("/api/dashboards/db", json={"dashboard": posted}).status_code == 200
    stored = admin.get("/api/dashboards/uid/norm-old").json()["dashboard"]
    assert (stored["schemaVersion"], stored["refresh"]) == (42, "")
    assert stored["timepicker"] == {"refresh_intervals": ["10s"]}
    hide_from = stored["panels"][0]["fieldConfig"]["overrides"][0]["properties"][0]["value"]
    assert hide_from == {"viz": True, "legend": False, "tooltip": True}


def test_current_schema_is_not_migrated_again(admin: httpx.Client) -> None:
    posted = {"title": "Current", "uid": "norm-current", "schemaVersion": 42,
              "timepicker": {"time_options": ["5m"]}}
    admin.post("/api/dashboards/db", json={"dashboard": posted})
    stored = admin.get("/api/dashboards/uid/norm-current").json()["dashboard"]
    assert stored["timepicker"] == {"time_options": ["5m"]}
    assert "refresh" not in stored
