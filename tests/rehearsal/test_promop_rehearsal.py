"""Column: rehearsal. kube-prometheus-stack on a rehearsal cluster with the default kubelet mapping
(tests/rehearsal/kubelet.yml): the stand-in chart installed with the real helm as the
prometheus_stack role installs it, the prometheus-operator stand-in reconciling the
ServiceMonitors and PrometheusRules the project writes, and the real Debian Prometheus answering
through its NodePort:

* a ServiceMonitor labelled ``release: prom`` on the Service port **named** ``http`` gives an UP
  target for the app's real uvicorn process (mlmon/house-price:1.0.0);
* ``port: "8000"`` (a number written as a string, the course chapter's bug) matches no port name:
  its pool is loaded but every target is dropped;
* a ServiceMonitor without the release label is never loaded;
* a PrometheusRule labelled ``release: prom`` reaches ``/api/v1/rules``, an unlabelled one does not;
* the chart's own ServiceMonitor for Grafana scrapes the rehearsal Grafana's ``/metrics``.

One cluster for the module; every wait is bounded (the operator reconciles, the reloader reloads,
Prometheus scrapes on its interval).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.rehearsal.conftest import binary
from tests.rehearsal.fixtures import RehearsalCluster, start_cluster
from tests.rehearsal.service import KUBELET_CONFIG, REPO

CHART = REPO / "tests" / "charts" / "kube-prometheus-stack"
MODEL = REPO / "app" / "house_price" / "artifacts" / "model.joblib"
PROMETHEUS = "/usr/bin/prometheus"
WAIT_SECONDS = 180.0
NAMED = "serviceMonitor/house-price/model/0"
NUMBERED = "serviceMonitor/house-price/model-by-number/0"
UNLABELLED = "serviceMonitor/house-price/model-unlabelled/0"
GRAFANA = "serviceMonitor/monitoring/prom-grafana/0"
T = TypeVar("T")

# The values the prometheus_stack role passes on the rehearsal inventory (NodePorts, the Grafana
# admin Secret, and the components the rehearsal kubelet cannot run switched off).
VALUES: dict[str, Any] = {
    "prometheus": {"service": {"type": "NodePort", "nodePort": 30300}},
    "grafana": {
        "service": {"type": "NodePort", "nodePort": 30200},
        "admin": {"existingSecret": "mlmon-grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
        "sidecar": {"dashboards": {"enabled": False}, "datasources": {"enabled": False}},
    },
    "alertmanager": {"enabled": False},
    "kubeStateMetrics": {"enabled": False},
    "nodeExporter": {"enabled": False},
    "prometheusOperator": {"tls": {"enabled": False}, "admissionWebhooks": {"enabled": False}},
}

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: house-price}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: model, namespace: house-price, labels: {app: model}}
spec:
  replicas: 1
  selector: {matchLabels: {app: model}}
  template:
    metadata: {labels: {app: model}}
    spec:
      containers:
      - name: api
        image: mlmon/house-price:1.0.0
        ports: [{name: http, containerPort: 8000}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: model, namespace: house-price, labels: {app: model}}
spec:
  selector: {app: model}
  ports: [{name: http, port: 8000, targetPort: http}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: model, namespace: house-price, labels: {release: prom}}
spec:
  selector: {matchLabels: {app: model}}
  endpoints: [{port: http, path: /metrics, interval: 5s}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: model-by-number, namespace: house-price, labels: {release: prom}}
spec:
  selector: {matchLabels: {app: model}}
  endpoints: [{port: "8000", path: /metrics, interval: 5s}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: model-unlabelled, namespace: house-price}
spec:
  selector: {matchLabels: {app: model}}
  endpoints: [{port: http, path: /metrics, interval: 5s}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: model-alerts, namespace: house-price, labels: {release: prom}}
spec:
  groups:
  - name: house-price.rules
    rules:
    - alert: HousePriceModelDown
      expr: up{namespace="house-price"} == 0
      for: 1m
      labels: {severity: critical}
      annotations: {summary: The model API is down}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: unlabelled-alerts, namespace: house-price}
spec:
  groups:
  - name: unlabelled.rules
    rules:
    - alert: NeverLoaded
      expr: vector(1)
"""


def until(fetch: Callable[[], T], done: Callable[[T], bool], what: str, seconds: float = WAIT_SECONDS) -> T:
    """Call ``fetch`` until ``done`` holds for its answer; bounded by ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = fetch()
        except httpx.HTTPError:
            value = None  # type: ignore[assignment]
        if value is not None and done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds:.0f}s; last answer: {value!r}")
        time.sleep(1)


@dataclass
class Stack:
    cluster: RehearsalCluster

    @property
    def node_ip(self) -> str:
        return str(self.cluster.info["node_ip"])

    def run(self, tool: str, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run([binary(tool), *args], env=self.cluster.env(), input=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{tool} {' '.join(args)}: {done.stderr}"
        return done.stdout

    def prometheus(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"http://{self.node_ip}:30300{path}", params=params, timeout=10)
        answer.raise_for_status()
        return answer.json()["data"]

    def targets(self) -> dict[str, Any]:
        return self.prometheus("/api/v1/targets")

    def active(self, pool: str) -> list[dict[str, Any]]:
        return [t for t in self.targets()["activeTargets"] if t["scrapePool"] == pool]

    def pools(self) -> set[str]:
        config = yaml.safe_load(self.prometheus("/api/v1/status/config")["yaml"])
        return {job["job_name"] for job in config.get("scrape_configs") or []}


def ensure_model() -> None:
    """The artefact `make setup` builds, trained here when the set-up has not run."""
    if MODEL.exists():
        return
    subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-m", "house_price.train", "--out",
                    "house_price/artifacts/model.joblib"], cwd=REPO / "app", check=True, timeout=600)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(PROMETHEUS).exists():
        pytest.skip("Debian prometheus is not installed (apt-get install -y --no-install-recommends prometheus)")
    ensure_model()
    state = tmp_path_factory.mktemp("promop")
    with start_cluster(state / "cluster", "--kubelet-config", str(KUBELET_CONFIG)) as cluster:
        stack = Stack(cluster)
        stack.run("kubectl", "create", "namespace", "monitoring")
        stack.run("kubectl", "-n", "monitoring", "create", "secret", "generic", "mlmon-grafana-admin",
                  "--from-literal=admin-user=admin", "--from-literal=admin-password=rehearsal-admin-pw")
        values = state / "values.yaml"
        values.write_text(yaml.safe_dump(VALUES))
        stack.run("helm", "install", "prom", str(CHART), "--namespace", "monitoring", "--values", str(values),
                  "--wait", "--timeout", "300s", timeout=360)
        stack.run("kubectl", "apply", "-f", "-", stdin=APP)
        stack.run("kubectl", "-n", "house-price", "rollout", "status", "deployment/model", "--timeout=120s",
                  timeout=150)
        yield stack


def test_the_chart_runs_the_operator_prometheus_and_grafana(stack: Stack) -> None:
    """helm waits for the chart's Deployments; the operator then creates the Prometheus StatefulSet."""

    def readiness() -> dict[str, str]:
        pods = yaml.safe_load(stack.run("kubectl", "-n", "monitoring", "get", "pods", "-o", "yaml"))["items"]
        return {
            p["metadata"]["labels"].get("app.kubernetes.io/name", "?"):
                {c["type"]: c["status"] for c in p["status"].get("conditions") or []}.get("Ready", "False")
            for p in pods
        }

    ready = until(readiness, lambda r: set(r.values()) == {"True"} and len(r) == 3, "every monitoring pod Ready")
    assert ready == {"grafana": "True", "kube-prometheus-stack-prometheus-operator": "True", "prometheus": "True"}
    assert until(lambda: httpx.get(f"http://{stack.node_ip}:30300/-/ready", timeout=10).status_code,
                 lambda code: code == 200, "Prometheus ready through its NodePort") == 200


def test_a_service_monitor_on_the_named_port_is_up(stack: Stack) -> None:
    (target,) = until(lambda: stack.active(NAMED), lambda ts: [t["health"] for t in ts] == ["up"],
                      f"{NAMED} UP")
    pod_ip = stack.run("kubectl", "-n", "house-price", "get", "pods", "-l", "app=model",
                       "-o", "jsonpath={.items[0].status.podIP}")
    assert target["scrapeUrl"] == f"http://{pod_ip}:8000/metrics"
    assert (target["labels"]["namespace"], target["labels"]["service"], target["labels"]["job"]) == (
        "house-price", "model", "model")
    up = stack.prometheus("/api/v1/query", query='up{namespace="house-price"}')["result"]
    assert [(r["metric"]["pod"].startswith("model-"), r["value"][1]) for r in up] == [(True, "1")]


def test_a_port_written_as_a_number_selects_no_target(stack: Stack) -> None:
    until(lambda: stack.active(NAMED), lambda ts: bool(ts), f"{NAMED} discovered")
    assert NUMBERED in stack.pools()
    assert stack.active(NUMBERED) == []
    discovered = [t["discoveredLabels"] for t in stack.targets()["droppedTargets"]]
    dropped = [t for t in discovered if NUMBERED in (t.get("job"), t.get("__tmp_prometheus_job_name"))]
    assert dropped and {t["__meta_kubernetes_endpoint_port_name"] for t in dropped} == {"http"}


def test_a_service_monitor_without_the_release_label_is_never_loaded(stack: Stack) -> None:
    pools = until(stack.pools, lambda p: NAMED in p and NUMBERED in p, "the labelled ServiceMonitors loaded")
    assert UNLABELLED not in pools
    assert stack.active(UNLABELLED) == []


def test_a_labelled_prometheus_rule_is_loaded(stack: Stack) -> None:
    groups = until(lambda: stack.prometheus("/api/v1/rules")["groups"],
                   lambda gs: any(g["name"] == "house-price.rules" for g in gs), "house-price.rules loaded")
    (group,) = [g for g in groups if g["name"] == "house-price.rules"]
    assert [(r["name"], r["query"], r["duration"]) for r in group["rules"]] == [
        ("HousePriceModelDown", 'up{namespace="house-price"} == 0', 60)]
    assert "unlabelled.rules" not in {g["name"] for g in groups}


def test_the_charts_grafana_service_monitor_scrapes_grafana(stack: Stack) -> None:
    (target,) = until(lambda: stack.active(GRAFANA), lambda ts: [t["health"] for t in ts] == ["up"],
                      f"{GRAFANA} UP")
    assert target["scrapeUrl"].endswith(":3000/metrics")
    info = until(lambda: stack.prometheus("/api/v1/query", query="grafana_build_info")["result"], bool,
                 "grafana_build_info scraped")
    assert [r["value"][1] for r in info] == ["1"]


def test_the_grafana_pod_log_holds_its_request_log(stack: Stack) -> None:
    """What molecule's grafana_dashboards verify reads with kubernetes.core.k8s_log."""
    log = stack.run("kubectl", "-n", "monitoring", "logs", "deployment/prom-grafana", "-c", "grafana")
    records = [yaml.safe_load(line) for line in log.splitlines() if line.startswith("{")]
    assert any(r.get("path") == "/api/health" and r.get("status") == 200 for r in records)
