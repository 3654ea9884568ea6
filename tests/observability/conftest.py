"""Session fixtures: the real app under uvicorn, a real Prometheus scraping it every second with
the project's rules loaded, and one bounded mixed load driven through both."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from house_price.model import save
from house_price.train import train

from tests.app.appserver import AppServer
from tests.observability.dashboard import RULES_FILE
from tests.observability.loadgen import LoadReport, drive, house
from tests.observability.promserver import PROMETHEUS, PrometheusServer, ScrapeJob

# What the operator attaches to every series scraped through the ServiceMonitor in the cluster.
CLUSTER_LABELS = {
    "namespace": "house-price",
    "service": "model",
    "pod": "model-5d8f7c9b6-abcde",
    "container": "model",
    "endpoint": "http",
}
JOB = "model"
MAX_BATCH_SIZE = 200
# Grafana's $__rate_interval is at least four scrape intervals; with 1 s scrapes 15 s covers the
# last rounds of the load when the queries run.
RATE_INTERVAL = "15s"

requires_prometheus = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="Prometheus (Debian package prometheus) not installed"
)


@dataclass(frozen=True)
class Stack:
    app: AppServer
    prometheus: PrometheusServer
    load: LoadReport
    at: float
    """When the load's last rounds had been scraped and evaluated: queries over RATE_INTERVAL ask about this
    moment, so they see the load however long the session's other tests ran in between."""


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    model_path = tmp_path_factory.mktemp("observability") / "model.joblib"
    save(train(rows=2_000), model_path)
    env = {"MLMON_MODEL_PATH": str(model_path), "MLMON_MAX_BATCH_SIZE": str(MAX_BATCH_SIZE)}
    with AppServer(env) as server:
        yield server


@pytest.fixture(scope="session")
def scrape(app_server: AppServer) -> str:
    """One /metrics scrape after a prediction, so every model metric has samples."""
    httpx.post(f"{app_server.url}/batch-predict", json={"houses": [house(0), house(1)]})
    httpx.post(f"{app_server.url}/predict", json={"sqft": -1})
    return httpx.get(f"{app_server.url}/metrics").text


@pytest.fixture(scope="session")
def stack(app_server: AppServer) -> Iterator[Stack]:
    job = ScrapeJob(job=JOB, targets=[f"127.0.0.1:{app_server.port}"], labels=CLUSTER_LABELS)
    with PrometheusServer([job], rule_files=[RULES_FILE]) as prometheus:
        prometheus.wait_for_targets_up(JOB)
        load = drive(app_server.url, MAX_BATCH_SIZE)
        prometheus.wait_for_series('house_price_predictions_total{handler="/batch-predict"}')
        prometheus.wait_for_series("mlmon:http_5xx_ratio:rate5m")
        prometheus.wait_for_series("mlmon:http_request_duration_seconds:p95_5m")
        yield Stack(app_server, prometheus, load, time.time())
