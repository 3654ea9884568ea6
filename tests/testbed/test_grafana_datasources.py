"""Column: real (stand-in process). Datasource lookup over real HTTP, defaults and a provisioning file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin, running_grafana


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_grafana_standin.url,
                      auth=shared_grafana_standin.admin_auth) as client:
        yield client


def test_default_datasources_are_the_charts(admin: httpx.Client) -> None:
    """kube-prometheus-stack (release ``prom``, namespace ``monitoring``) provisions these."""
    listed = admin.get("/api/datasources").json()
    assert [(d["name"], d["uid"], d["type"], d["isDefault"]) for d in listed] == [
        ("Alertmanager", "alertmanager", "alertmanager", False),
        ("Prometheus", "prometheus", "prometheus", True),
    ]
    prometheus = listed[1]
    assert prometheus["url"] == "http://prom-kube-prometheus-stack-prometheus.monitoring:9090/"
    assert prometheus["access"] == "proxy"
    assert prometheus["readOnly"] is True


def test_datasource_by_name(admin: httpx.Client) -> None:
    answer = admin.get("/api/datasources/name/Prometheus")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["uid"], body["type"], body["version"]) == ("prometheus", "prometheus", 1)
    assert body["jsonData"] == {"httpMethod": "POST", "timeInterval": "30s"}
    assert body["secureJsonFields"] == {}


def test_datasource_by_uid(admin: httpx.Client) -> None:
    answer = admin.get("/api/datasources/uid/prometheus")
    assert answer.status_code == 200
    assert answer.json()["name"] == "Prometheus"


@pytest.mark.parametrize("path", ["/api/datasources/name/prometheus",
                                  "/api/datasources/uid/Prometheus",
                                  "/api/datasources/uid/missing"])
def test_unknown_datasource_is_404(admin: httpx.Client, path: str) -> None:
    """Names and uids are matched exactly."""
    answer = admin.get(path)
    assert answer.status_code == 404
    assert answer.text == '{"message":"Data source not found"}'


def test_datasources_need_credentials(shared_grafana_standin: GrafanaStandin) -> None:
    answer = httpx.get(f"{shared_grafana_standin.url}/api/datasources/uid/prometheus")
    assert answer.status_code == 401


def test_provisioning_file_replaces_the_defaults(tmp_path: Path) -> None:
    provisioning = tmp_path / "datasources.yaml"
    provisioning.write_text(
        "apiVersion: 1\n"
        "datasources:\n"
        "  - name: Metrics\n"
        "    type: prometheus\n"
        "    uid: metrics\n"
        "    url: http://127.0.0.1:9090\n"
        "    isDefault: true\n"
        "    jsonData: {timeInterval: 15s}\n"
        "    secureJsonData: {httpHeaderValue1: secret}\n")
    with running_grafana(tmp_path / "grafana",
                         extra_args=["--datasources", str(provisioning)]) as grafana:
        listed = httpx.get(f"{grafana.url}/api/datasources", auth=grafana.admin_auth).json()
        assert [d["uid"] for d in listed] == ["metrics"]
        detail = httpx.get(f"{grafana.url}/api/datasources/uid/metrics",
                           auth=grafana.admin_auth).json()
        assert detail["secureJsonFields"] == {"httpHeaderValue1": True}
        assert "secret" not in str(detail)
        missing = httpx.get(f"{grafana.url}/api/datasources/uid/prometheus",
                            auth=grafana.admin_auth)
        assert missing.status_code == 404
