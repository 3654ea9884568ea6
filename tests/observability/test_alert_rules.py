"""Alert and recording rules: promtool checks and unit tests, the PrometheusRule the service_monitor role
renders from them, and the runbook links (real: /usr/bin/promtool, /usr/bin/prometheus loading the rules,
ansible-playbook rendering the role's template)."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.app.appserver import REPO_ROOT
from tests.observability.conftest import Stack, requires_prometheus
from tests.observability.promserver import PROMTOOL
from tests.playbook_runner import run_playbook

ALERTS_DIR = REPO_ROOT / "files" / "alerts"
RULES_FILE = ALERTS_DIR / "rules.yml"
# The recording rule the service_monitor role sets from service_monitor_latency_p95_threshold_seconds.
THRESHOLD_RECORD = "mlmon:http_latency_p95_threshold:seconds"
UNIT_TESTS = sorted((ALERTS_DIR / "tests").glob("*.yml"))
RUNBOOKS = REPO_ROOT / "docs" / "runbooks.md"

pytestmark = pytest.mark.skipif(shutil.which(PROMTOOL) is None, reason="promtool not installed")


def promtool(*arguments: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def load_rules() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text())


def alerts(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


ALERTS = alerts(load_rules())
ALERT_NAMES = [alert["alert"] for alert in ALERTS]


def test_promtool_accepts_the_rules() -> None:
    checked = promtool("check", "rules", str(RULES_FILE))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_unit_tests_pass() -> None:
    assert UNIT_TESTS
    tested = promtool("test", "rules", *map(str, UNIT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_expected_alerts_exist() -> None:
    assert set(ALERT_NAMES) == {
        "ModelApiErrorBudgetBurnFast",
        "ModelApiErrorBudgetBurnSlow",
        "ModelApiHighLatency",
        "ModelApiTargetDown",
        "ModelApiTargetMissing",
        "ModelApiNoPredictions",
        "ModelInputDrift",
        "PredictionShift",
    }


@pytest.mark.parametrize("alert", ALERTS, ids=ALERT_NAMES)
def test_alert_says_what_it_means_and_links_its_runbook(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in {"critical", "warning"}
    annotations = alert["annotations"]
    assert annotations["summary"] and annotations["description"]
    document, _, anchor = annotations["runbook"].partition("#")
    assert document == "docs/runbooks.md"
    assert anchor == alert["alert"].lower()
    assert f"## {alert['alert']}\n" in RUNBOOKS.read_text()


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_each_alert_is_unit_tested_firing_and_silent(name: str) -> None:
    cases = [
        case
        for path in UNIT_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["alertname"] == name
    ]
    assert any(case["exp_alerts"] for case in cases), f"{name} never expected to fire"
    assert any(not case["exp_alerts"] for case in cases), f"{name} never expected to stay silent"


def unit_tests_of(name: str) -> list[Path]:
    return [path for path in UNIT_TESTS if f"alertname: {name}\n" in path.read_text()]


def run_unit_tests_against(
    rules: dict[str, Any], workdir: Path, unit_tests: list[Path]
) -> subprocess.CompletedProcess[str]:
    """Committed unit tests, run against another rules file (same layout as files/alerts)."""
    (workdir / "tests").mkdir(parents=True)
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    for path in unit_tests:
        shutil.copy(path, workdir / "tests" / path.name)
    return promtool("test", "rules", *sorted(str(p) for p in (workdir / "tests").glob("*.yml")), cwd=workdir)


@pytest.mark.parametrize("broken_expr", ["vector(1)", "vector(1) == 0"], ids=["always", "never"])
@pytest.mark.parametrize("name", ALERT_NAMES)
def test_breaking_an_alert_expression_fails_the_unit_tests(name: str, broken_expr: str, tmp_path: Path) -> None:
    rules = load_rules()
    [alert] = [rule for rule in alerts(rules) if rule["alert"] == name]
    alert["expr"] = broken_expr
    tested = run_unit_tests_against(rules, tmp_path, unit_tests_of(name))
    assert tested.returncode != 0
    assert name in tested.stdout + tested.stderr


def rendered_rule(tmp_path: Path, **extra_vars: object) -> dict[str, Any]:
    """The PrometheusRule the service_monitor role applies, rendered by its own template (real ansible)."""
    tmp_path.mkdir(exist_ok=True)
    variables = {"out": str(tmp_path), **extra_vars}
    run = run_playbook("tests/ansible/playbooks/render_manifests.yml", inventory="localhost,", extra_vars=variables)
    assert run.returncode == 0, run.tail()
    return json.loads((tmp_path / "monitor-prometheusrule.json").read_text())


def test_the_role_applies_the_rules_file_as_a_prometheus_rule_the_release_picks_up(tmp_path: Path) -> None:
    manifest = rendered_rule(tmp_path)
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"]["name"] == "house-price-api-alerts"
    assert manifest["metadata"]["labels"]["release"] == "prom"
    assert manifest["spec"]["groups"] == load_rules()["groups"]


def test_threshold_override_changes_that_rule_only(tmp_path: Path) -> None:
    default = rendered_rule(tmp_path / "default")
    changed = rendered_rule(tmp_path / "changed", service_monitor_latency_p95_threshold_seconds=2.0)
    differences = [
        (old, new)
        for old_group, new_group in zip(default["spec"]["groups"], changed["spec"]["groups"], strict=True)
        for old, new in zip(old_group["rules"], new_group["rules"], strict=True)
        if old != new
    ]
    assert differences == [
        (
            {"record": THRESHOLD_RECORD, "expr": "vector(0.5)"},
            {"record": THRESHOLD_RECORD, "expr": "vector(2.0)"},
        )
    ]
    tested = run_unit_tests_against(
        {"groups": changed["spec"]["groups"]}, tmp_path, unit_tests_of("ModelApiHighLatency")
    )
    assert tested.returncode != 0, "a 0.97 s p95 must not fire against a 2 s threshold"
    assert "ModelApiHighLatency" in tested.stdout + tested.stderr


@requires_prometheus
def test_prometheus_loads_and_evaluates_every_rule(stack: Stack) -> None:
    loaded = {rule.get("name"): rule for rule in stack.prometheus.rules()}
    expected = [
        rule.get("alert") or rule["record"] for group in load_rules()["groups"] for rule in group["rules"]
    ]
    assert sorted(loaded) == sorted(expected)
    assert {name: rule["health"] for name, rule in loaded.items() if rule["health"] != "ok"} == {}
    firing = [name for name, rule in loaded.items() if rule.get("state") == "firing"]
    assert firing == [], "a healthy service under normal load must not alert"
