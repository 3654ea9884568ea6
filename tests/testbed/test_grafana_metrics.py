"""Column: real (the Grafana stand-in as a real process; the real ``promtool``). ``GET /metrics``
answers without credentials in the Prometheus text format, with Grafana's own series:
``grafana_build_info`` and the request histogram labelled ``handler`` (route pattern),
``method``, ``status_code``, ``status_source`` and ``slo_group``."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from testbed.grafana_standin.config import GRAFANA_VERSION
from testbed.grafana_standin.launcher import GrafanaStandin


def scrape(grafana: GrafanaStandin) -> tuple[httpx.Response, dict[str, list]]:
    answer = httpx.get(f"{grafana.url}/metrics", timeout=10)
    families = {family.name: family.samples for family in text_string_to_metric_families(answer.text)}
    return answer, families


def counts(samples: list) -> dict[tuple[str, str, str], float]:
    return {
        (s.labels["handler"], s.labels["method"], s.labels["status_code"]): s.value
        for s in samples if s.name.endswith("_count")
    }


def test_metrics_need_no_credentials_and_name_the_build(grafana_standin: GrafanaStandin) -> None:
    answer, families = scrape(grafana_standin)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    (build,) = families["grafana_build_info"]
    assert build.value == 1
    assert build.labels["version"] == GRAFANA_VERSION
    assert set(build.labels) == {"branch", "edition", "goversion", "revision", "version"}


def test_requests_are_counted_by_route_method_and_status(grafana_standin: GrafanaStandin) -> None:
    url, auth = grafana_standin.url, grafana_standin.admin_auth
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    assert httpx.get(f"{url}/api/search", timeout=10).status_code == 401
    for _ in range(2):
        assert httpx.get(f"{url}/api/dashboards/uid/absent", auth=auth, timeout=10).status_code == 404
    assert httpx.get(f"{url}/no/such/page", timeout=10).status_code == 404
    scrape(grafana_standin)
    _, families = scrape(grafana_standin)
    histogram = families["grafana_http_request_duration_seconds"]
    assert counts(histogram) == {
        ("/api/health", "GET", "200"): 1,
        ("/api/search", "GET", "401"): 1,
        ("/api/dashboards/uid/:uid", "GET", "404"): 2,
        ("notfound", "GET", "404"): 1,
        ("/metrics", "GET", "200"): 1,
    }
    assert {(s.labels["status_source"], s.labels["slo_group"]) for s in histogram} == {("server", "high-fast")}
    buckets = [s for s in histogram if s.name.endswith("_bucket") and s.labels["handler"] == "/api/health"]
    assert [s.labels["le"] for s in buckets][-2:] == ["25", "+Inf"] and buckets[-1].value == 1
    api = {s.labels["code"]: s.value for s in families["grafana_api_response_status"]}
    assert api == {"200": 1, "404": 2, "500": 0, "unknown": 1}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_reads_the_exposition(grafana_standin: GrafanaStandin) -> None:
    httpx.get(f"{grafana_standin.url}/api/health", timeout=10)
    text = httpx.get(f"{grafana_standin.url}/metrics", timeout=10).text
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
