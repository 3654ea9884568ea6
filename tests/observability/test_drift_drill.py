"""The drift drill with the real Prometheus: in-distribution traffic is quiet, shifted traffic alerts.

Column: real. The app (uvicorn) serves a model trained as the image trains it (seed 42, 5,000 rows);
the real Prometheus scrapes it every second and evaluates the rules the service_monitor role renders
(its own template, through ansible), with the drift window shortened to 20 s and both alerts' wait
to 5 s through the role variables. The drill sends 1,000 houses drawn as the training data is, reads
every PSI, waits until the window forgets them (an idle service has no PSI), then sends the same
houses shifted (only waterfront, three times the floor area). It writes what Prometheus computed to
build/drift/psi.json, which scripts/drift_vs_evidently.py sets beside Evidently's data-drift preset.
"""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from house_price.model import save
from house_price.train import DEFAULT_ROWS, DEFAULT_SEED, HELD_OUT_FRACTION, train

from tests.app.appserver import AppServer, wait_until
from tests.observability.conftest import CLUSTER_LABELS, JOB, requires_prometheus
from tests.observability.drift_traffic import in_distribution, shifted
from tests.observability.promserver import PrometheusServer, ScrapeJob
from tests.observability.test_alert_rules import rendered_rule

pytestmark = [requires_prometheus, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build/drift/psi.json"
HOUSES = 1_000
SEED = 2026
WINDOW = "20s"
SETTINGS = {
    "service_monitor_drift_window": WINDOW,
    "service_monitor_drift_for": "5s",
    "service_monitor_prediction_shift_for": "5s",
}
SHIFTED_FEATURES = {"sqft", "location", "prediction"}
FEATURES = ("sqft", "bedrooms", "bathrooms", "location", "year_built", "condition", "prediction")


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, PrometheusServer]]:
    work = tmp_path_factory.mktemp("drift-drill")
    model = work / "model.joblib"
    save(train(seed=DEFAULT_SEED, rows=DEFAULT_ROWS), model)
    rules = work / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": rendered_rule(work / "rendered", **SETTINGS)["spec"]["groups"]}))
    with AppServer({"MLMON_MODEL_PATH": str(model)}) as app:
        job = ScrapeJob(job=JOB, targets=[f"127.0.0.1:{app.port}"], labels=CLUSTER_LABELS)
        with PrometheusServer([job], rule_files=[rules]) as prometheus:
            prometheus.wait_for_targets_up(JOB)
            yield app, prometheus


def send(app: AppServer, houses: list[dict[str, object]]) -> None:
    with httpx.Client(base_url=app.url, timeout=30) as client:
        for start in range(0, len(houses), 100):
            client.post("/batch-predict", json={"houses": houses[start : start + 100]}).raise_for_status()


def psi(prometheus: PrometheusServer) -> dict[str, float]:
    return {
        sample["metric"]["feature"]: float(sample["value"][1])
        for sample in prometheus.query('mlmon:house_price_drift:psi{namespace="house-price"}')
    }


def settled_psi(prometheus: PrometheusServer) -> dict[str, float]:
    """Every feature's PSI once the window holds all the houses sent (two equal readings in a row)."""
    readings: list[dict[str, float]] = []

    def stable() -> bool:
        readings.append(psi(prometheus))
        return len(readings[-1]) == len(FEATURES) and len(readings) > 1 and readings[-1] == readings[-2]

    wait_until(stable, 30, "every PSI to settle")
    time.sleep(2)
    return psi(prometheus)


def drift_alerts(prometheus: PrometheusServer) -> set[tuple[str, str, str]]:
    return {
        (s["metric"]["alertname"], s["metric"]["feature"], s["metric"]["alertstate"])
        for s in prometheus.query('ALERTS{alertname=~"ModelInputDrift|PredictionShift"}')
    }


def test_in_distribution_is_quiet_idle_has_no_psi_and_shifted_traffic_fires(
    drill: tuple[AppServer, PrometheusServer],
) -> None:
    app, prometheus = drill
    send(app, in_distribution(HOUSES, SEED))
    quiet = settled_psi(prometheus)
    assert max(quiet.values()) < 0.1, quiet
    assert drift_alerts(prometheus) == set()

    wait_until(lambda: not psi(prometheus), 60, f"the PSI to go once the {WINDOW} window holds no house")

    send(app, shifted(HOUSES, SEED))
    wait_until(lambda: psi(prometheus).get("sqft", 0) > 0.2, 30, "the shifted sqft to show")
    loud = settled_psi(prometheus)
    assert {feature for feature, value in loud.items() if value > 0.2} == SHIFTED_FEATURES, loud
    assert max(value for feature, value in loud.items() if feature not in SHIFTED_FEATURES) < 0.1, loud
    firing = {("ModelInputDrift", "sqft"), ("ModelInputDrift", "location"), ("PredictionShift", "prediction")}
    wait_until(
        lambda: {(name, feature) for name, feature, state in drift_alerts(prometheus) if state == "firing"} == firing,
        30,
        f"exactly {sorted(firing)} to fire",
    )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "model_seed": DEFAULT_SEED,
                "model_rows": DEFAULT_ROWS,
                "held_out_fraction": HELD_OUT_FRACTION,
                "houses": HOUSES,
                "seed": SEED,
                "window": WINDOW,
                "psi": {"in_distribution": quiet, "shifted": loud},
            },
            indent=2,
        )
        + "\n"
    )
