"""The dashboard_png module draws one plot per panel from Prometheus's range queries, and names the empty ones.

Column: real (mlmon.monitoring.dashboard_png runs inside a real ansible-playbook, through tests/ansible/playbooks/
dashboard_png.yml, against an HTTP server of the standard library that answers Prometheus's /api/v1/query_range with
fixed series; the PNG it writes is read back with Pillow, pixel by pixel).
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from tests.playbook_runner import REPO, run_playbook_json

PLAYBOOK = REPO / "tests" / "ansible" / "playbooks" / "dashboard_png.yml"
DASHBOARD = REPO / "files" / "dashboards" / "ml-model-api.json"
VARIABLES = {
    "job": "model",
    "namespace": "house-price",
    "datasource": "prometheus",
    "__rate_interval": "1m",
    "__interval": "1m",
}
START, END, STEP = 1_800_000_000.0, 1_800_000_600.0, 15.0
WHITE = (255, 255, 255)


@dataclass
class FakePrometheus:
    """What the fake answered: the URL to reach it and every range query it was sent."""

    url: str
    queries: list[dict[str, str]] = field(default_factory=list)


def answer(query: str, start: float, end: float, step: float) -> tuple[int, dict[str, Any]]:
    """Prometheus's answer: no series for ``empty_``, NaN only for ``nan_``, bad_data for ``refused_``, else two."""
    if "refused_" in query:
        return 400, {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "refused_"'}
    if "empty_" in query or "validation_errors" in query:
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": []}}
    moments = [start + index * step for index in range(int((end - start) // step) + 1)]
    offset = zlib.crc32(query.encode()) % 7
    result = []
    for number, handler in enumerate(("/predict", "/batch-predict")):
        values = [
            "NaN" if "nan_" in query or index == 3 else str(offset + number + index % 5)
            for index in range(len(moments))
        ]
        result.append(
            {
                "metric": {"handler": handler, "status": "4xx", "le": "0.5", "version": "1.0.0"},
                "values": [[moment, value] for moment, value in zip(moments, values, strict=True)],
            }
        )
    return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}


@contextmanager
def fake_prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus(url="")

    class QueryRange(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {name: values[0] for name, values in parse_qs(url.query).items()}
            if url.path != "/api/v1/query_range":
                status, body = 404, {"status": "error", "error": "not found"}
            else:
                fake.queries.append(params)
                status, body = answer(params["query"], *(float(params[key]) for key in ("start", "end", "step")))
            content = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), QueryRange)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with fake_prometheus() as fake:
        yield fake


def run_module(tmp_path: Path, prometheus_url: str, dashboards: list[Path], **options: Any) -> dict[str, Any]:
    """One run of the module playbook: the task's result, with the playbook's exit code as ``rc``."""
    settings = {
        "dashboard_files": [str(path) for path in dashboards],
        "variables": VARIABLES,
        "prometheus_url": prometheus_url,
        "start": START,
        "end": END,
        "step": STEP,
        "dest": str(tmp_path / "pictures"),
        **options,
    }
    vars_file = tmp_path / f"vars-{len(list(tmp_path.glob('vars-*')))}.json"
    returncode, report, _ = run_playbook_json(PLAYBOOK, vars_file, settings)
    [task] = report["plays"][0]["tasks"]
    return {"rc": returncode, **task["hosts"]["localhost"]}


def panels_with_queries(dashboard: dict[str, Any]) -> list[str]:
    """Titles of the panels with a visible PromQL target, rows' nested panels included: what Grafana draws."""
    titles = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            if any(target.get("expr") and not target.get("hide") for target in inner.get("targets", [])):
                titles.append(inner["title"])
    return titles


def colours(image: Image.Image, box: list[int]) -> list[tuple[int, int, int]]:
    """The pixels inside a plot's box, 3 px in from its edges (its axes lines and ticks left out)."""
    left, top, right, bottom = box
    return list(image.crop((left + 3, top + 3, right - 3, bottom - 3)).get_flattened_data())


def coloured(pixel: tuple[int, int, int]) -> bool:
    """A pixel of a series' line: the colour cycle has no greys, the text and axes are grey or black."""
    return max(pixel) - min(pixel) > 60


def test_the_model_dashboard_has_one_plot_per_panel_and_the_empty_panel_is_named(
    tmp_path: Path, prometheus: FakePrometheus
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expected = panels_with_queries(dashboard)
    result = run_module(tmp_path, prometheus.url, [DASHBOARD])
    assert result["rc"] == 0, result.get("msg")
    [drawn] = result["dashboards"]
    assert drawn["path"] == str(tmp_path / "pictures" / f"{dashboard['uid']}.png")
    assert (drawn["panels"], drawn["axes"], len(drawn["plots"])) == (len(expected),) * 3
    assert [plot["title"] for plot in drawn["plots"]] == expected
    assert drawn["empty_panels"] == ["Validation errors by field"]

    with Image.open(drawn["path"]) as png:
        assert png.format == "PNG"
        image = png.convert("RGB")
    for plot in drawn["plots"]:
        left, top, right, bottom = plot["box"]
        assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height, plot
        inside = colours(image, plot["box"])
        assert any(pixel != WHITE for pixel in inside), f"{plot['title']} is blank"
        if plot["has_data"]:
            assert any(coloured(pixel) for pixel in inside), f"{plot['title']} has data but no line"
        else:
            assert not any(coloured(pixel) for pixel in inside), f"{plot['title']} has no data but a line"

    # Every visible query went to Prometheus once, over the range given, with the variables resolved.
    targets = sum(
        1
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target.get("expr") and not target.get("hide")
    )
    assert len(prometheus.queries) == targets
    for query in prometheus.queries:
        assert (float(query["start"]), float(query["end"]), float(query["step"])) == (START, END, STEP)
        assert "$" not in query["query"]
    assert any('namespace="house-price", job="model"' in query["query"] for query in prometheus.queries)


def test_the_same_data_draws_the_same_picture_and_reports_no_change(tmp_path: Path, prometheus: FakePrometheus) -> None:
    first = run_module(tmp_path, prometheus.url, [DASHBOARD])
    assert (first["rc"], first["changed"]) == (0, True), first.get("msg")
    picture = Path(first["dashboards"][0]["path"]).read_bytes()
    again = run_module(tmp_path, prometheus.url, [DASHBOARD])
    assert (again["rc"], again["changed"]) == (0, False), again.get("msg")
    assert Path(again["dashboards"][0]["path"]).read_bytes() == picture
    later = run_module(tmp_path, prometheus.url, [DASHBOARD], end=END + 300)
    assert (later["rc"], later["changed"]) == (0, True)


def dashboard_file(tmp_path: Path, uid: str, panels: list[dict[str, Any]]) -> Path:
    path = tmp_path / f"{uid}.json"
    path.write_text(json.dumps({"uid": uid, "title": f"Dashboard {uid}", "panels": panels}))
    return path


def target(expr: str, legend: str = "{{handler}}") -> list[dict[str, str]]:
    return [{"refId": "A", "expr": expr, "legendFormat": legend}]


def test_rows_collapsed_rows_and_text_panels(tmp_path: Path, prometheus: FakePrometheus) -> None:
    """Text panels and rows get no plot, a collapsed row's panels do; NaN alone is no data."""
    panels = [
        {"type": "row", "title": "Open", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        {"title": "Rate", "gridPos": {"x": 0, "y": 1, "w": 12, "h": 8}, "targets": target('up{job="$job"}')},
        {"title": "Broken", "gridPos": {"x": 12, "y": 1, "w": 12, "h": 8}, "targets": target("nan_ratio")},
        {"type": "text", "title": "Notes", "gridPos": {"x": 0, "y": 9, "w": 24, "h": 3}},
        {
            "type": "row",
            "title": "Closed",
            "collapsed": True,
            "gridPos": {"x": 0, "y": 12, "w": 24, "h": 1},
            "panels": [{"title": "Inside", "gridPos": {"x": 0, "y": 13, "w": 24, "h": 6}, "targets": target("x")}],
        },
    ]
    result = run_module(tmp_path, prometheus.url, [dashboard_file(tmp_path, "rows", panels)])
    assert result["rc"] == 0, result.get("msg")
    [drawn] = result["dashboards"]
    assert [plot["title"] for plot in drawn["plots"]] == ["Rate", "Broken", "Inside"]
    assert drawn["axes"] == 3
    assert drawn["empty_panels"] == ["Broken"]
    rate, broken, inside = (plot["box"] for plot in drawn["plots"])
    assert rate[2] < broken[0] and rate[1] == broken[1], "Rate and Broken share a line, side by side"
    assert inside[1] > max(rate[3], broken[3]), "the collapsed row's panel is drawn below them"


def test_a_missing_variable_or_a_refused_query_fails_naming_the_panel(
    tmp_path: Path, prometheus: FakePrometheus
) -> None:
    unresolved = dashboard_file(tmp_path, "vars", [{"title": "Lost", "targets": target('up{pod="$pod"}')}])
    result = run_module(tmp_path, prometheus.url, [unresolved])
    assert result["rc"] != 0
    assert "panel 'Lost' target A: no value for template variable $pod" in result["msg"]

    refused = dashboard_file(tmp_path, "refused", [{"title": "Typo", "targets": target("refused_(")}])
    result = run_module(tmp_path, prometheus.url, [refused])
    assert result["rc"] != 0
    assert "Dashboard refused / Typo / A: Prometheus at" in result["msg"]
    assert 'parse error: unexpected "refused_"' in result["msg"]
    assert not (tmp_path / "pictures" / "refused.png").exists()
