"""The canary analysis against the real series: a bad canary aborts, a good one promotes, an idle one has no verdict.

Real: four app processes under uvicorn (one stable, a good canary, a bad canary answering every fourth prediction
500 through MLMON_DRILL_ERROR_RATIO, an idle canary), /usr/bin/prometheus scraping them every second with the
labels the operator adds (the canaries with track="canary", as the ServiceMonitor's podTargetLabels gives them),
and traffic sent by the test, two requests to the stable for one to the canary as a Service with two stable
replicas and one canary would split it. Each scenario has its own namespace label; the stable is scraped in
each. The analysis asks Prometheus through the module's own HTTP client (module_utils/prometheus_api.py); the
bad canary is also judged by the module itself through ansible-playbook.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from house_price.model import save
from house_price.train import train

from plugins.module_utils.canary_analysis import ABORT, INCONCLUSIVE, PASS, PROMOTE, Settings, run
from plugins.module_utils.prometheus_api import get
from tests.app.appserver import AppServer
from tests.observability.conftest import requires_prometheus
from tests.observability.loadgen import house
from tests.observability.promserver import PrometheusServer, ScrapeJob
from tests.playbook_runner import REPO, run_playbook_json

pytestmark = requires_prometheus

JOB = "model"
ROLES = ("stable", "good", "bad", "idle")
PLAYBOOK = REPO / "tests/ansible/playbooks/canary_analysis.yml"
# Short windows for a test: 1 s scrapes, an analysis every 4 s over the last 8 s.
INTERVAL, WINDOW, MIN_REQUESTS = 4, 8, 20


@dataclass(frozen=True)
class TrackedJob(ScrapeJob):
    """One job, one target group per scenario: the stable without a track label, its canary with track="canary"."""

    groups: tuple[tuple[str, str, dict[str, str]], ...] = ()

    def config(self) -> dict[str, Any]:
        config = super().config()
        config["static_configs"] = [
            {"targets": [target], "labels": {"namespace": namespace, **labels}}
            for namespace, target, labels in self.groups
        ]
        return config


@dataclass(frozen=True)
class Fleet:
    apps: dict[str, AppServer]
    prometheus: PrometheusServer


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    model_path = tmp_path_factory.mktemp("canary") / "model.joblib"
    save(train(rows=2_000), model_path)
    env = {"MLMON_MODEL_PATH": str(model_path)}
    drills = {"bad": {"MLMON_DRILL_ERROR_RATIO": "0.25"}}
    apps: dict[str, AppServer] = {}
    try:
        for role in ROLES:
            apps[role] = AppServer({**env, **drills.get(role, {})}).start()
        target = {role: f"127.0.0.1:{app.port}" for role, app in apps.items()}
        groups = tuple(
            group
            for scenario in ("good", "bad", "idle")
            for group in ((scenario, target["stable"], {}), (scenario, target[scenario], {"track": "canary"}))
        )
        job = TrackedJob(job=JOB, targets=[], groups=groups)
        with PrometheusServer([job]) as prometheus:
            prometheus.wait_for_targets_up(JOB)
            yield Fleet(apps, prometheus)
    finally:
        for app in apps.values():
            app.stop()


@contextmanager
def traffic(stable: AppServer, canary: AppServer | None) -> Iterator[None]:
    """Predictions until the block ends: each house twice to the stable, once to the canary (when given)."""
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            index = 0
            while not stop.is_set():
                for app in (stable, stable, canary):
                    if app is not None:
                        client.post(f"{app.url}/predict", json=house(index))
                index += 1
                stop.wait(0.03)

    sender = threading.Thread(target=send, name="traffic", daemon=True)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join(timeout=10)


def query(prometheus: PrometheusServer):
    def ask(expr: str) -> list[dict[str, Any]]:
        return list(get(prometheus.url, "/api/v1/query", {"query": expr}, True)["data"]["result"])

    return ask


def settings(namespace: str) -> Settings:
    # PSI over a few hundred predictions is noise at 250; the test sends both sides the same houses.
    return Settings(
        namespace=namespace, job=JOB, window=WINDOW, min_requests=MIN_REQUESTS, drift_min_observations=50
    )


def test_a_bad_canary_aborts_at_once_naming_the_5xx_check_and_its_observed_value(fleet: Fleet) -> None:
    with traffic(fleet.apps["stable"], fleet.apps["bad"]):
        verdict = run(query(fleet.prometheus), settings("bad"), interval=INTERVAL, passes=3, timeout=60)
    assert verdict.verdict == ABORT, verdict.msg
    assert verdict.failed_check is not None
    assert verdict.failed_check.name == "5xx ratio"
    assert verdict.failed_check.threshold == 0.01
    assert 0.15 < verdict.failed_check.observed < 0.35, verdict.msg
    assert f"observed {verdict.failed_check.observed:.4g}, threshold 0.01" in verdict.msg
    assert len(verdict.analyses) == 1, "one failing analysis is enough"


def test_a_good_canary_passes_every_analysis_and_is_promoted(fleet: Fleet) -> None:
    with traffic(fleet.apps["stable"], fleet.apps["good"]):
        verdict = run(query(fleet.prometheus), settings("good"), interval=INTERVAL, passes=2, timeout=60)
    assert verdict.verdict == PROMOTE, verdict.msg
    last = verdict.analyses[-2:]
    assert [a.outcome for a in last] == [PASS, PASS]
    for analysis in last:
        assert analysis.canary_requests >= MIN_REQUESTS
        assert analysis.stable_requests > analysis.canary_requests
        outcomes = {check.name: check.outcome for check in analysis.checks}
        assert outcomes["5xx ratio"] == outcomes["p95 latency vs stable"] == PASS
        # The same houses on both sides: the prediction PSI over the drift series' bins is small.
        drift = analysis.checks[-1]
        assert (drift.name, drift.outcome) == ("prediction PSI vs stable", PASS), drift
        assert drift.observed is not None and drift.observed < 0.05


def test_an_idle_canary_has_no_verdict_and_aborts_when_time_is_up(fleet: Fleet) -> None:
    with traffic(fleet.apps["stable"], None):
        verdict = run(query(fleet.prometheus), settings("idle"), interval=INTERVAL, passes=2, timeout=12)
    assert verdict.verdict == ABORT
    assert {a.outcome for a in verdict.analyses} == {INCONCLUSIVE}
    assert verdict.failed_check is not None and verdict.failed_check.name == "no verdict"
    assert "too few canary requests" in verdict.msg


def test_the_module_reports_the_abort_it_decides(fleet: Fleet, tmp_path: Path) -> None:
    """The same bad canary, judged by mlmon.monitoring.canary_analysis in a real ansible-playbook."""
    analysis = {
        "url": fleet.prometheus.url,
        "namespace": "bad",
        "job": JOB,
        "interval": INTERVAL,
        "window": WINDOW,
        "min_requests": MIN_REQUESTS,
        "timeout": 60,
    }
    with traffic(fleet.apps["stable"], fleet.apps["bad"]):
        returncode, report, stderr = run_playbook_json(PLAYBOOK, tmp_path / "vars.json", {"analysis": analysis})
    assert returncode == 0, stderr
    [task] = report["plays"][0]["tasks"]
    result = task["hosts"]["localhost"]
    assert result["changed"] is False
    assert result["verdict"] == "abort"
    assert result["failed_check"]["name"] == "5xx ratio"
    assert result["failed_check"]["threshold"] == 0.01
    assert 0.15 < result["failed_check"]["observed"] < 0.35
    assert "5xx ratio: observed" in result["msg"]
    checks = {check["name"]: check for check in result["analyses"][-1]["checks"]}
    assert checks["5xx ratio"]["outcome"] == "fail"
