"""Alert and recording rules: promtool checks and unit tests, the PrometheusRule rendering, and the
runbook links (real: /usr/bin/promtool, and /usr/bin/prometheus loading the rules)."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from files.alerts import render
from tests.app.appserver import REPO_ROOT
from tests.observability.conftest import Stack, requires_prometheus
from tests.observability.promserver import PROMTOOL

ALERTS_DIR = REPO_ROOT / "files" / "alerts"
RULES_FILE = ALERTS_DIR / "rules.yml"
UNIT_TESTS = sorted((ALERTS_DIR / "tests").glob("*.yml"))
RUNBOOKS = REPO_ROOT / "docs" / "runbooks.md"

pytestmark = pytest.mark.skipif(shutil.which(PROMTOOL) is None, reason="promtool not installed")


def promtool(*arguments: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def alerts(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


ALERTS = alerts(render.load_rules())
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
    rules = render.load_rules()
    [alert] = [rule for rule in alerts(rules) if rule["alert"] == name]
    alert["expr"] = broken_expr
    tested = run_unit_tests_against(rules, tmp_path, unit_tests_of(name))
    assert tested.returncode != 0
    assert name in tested.stdout + tested.stderr


def test_committed_manifest_is_the_default_rendering() -> None:
    assert (ALERTS_DIR / "prometheusrule.yml").read_text() == render.render()
    assert render.main(["--check"]) == 0


def test_manifest_is_a_prometheus_rule_picked_up_by_the_release() -> None:
    manifest = yaml.safe_load(render.render())
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"]["name"] == "mlmon-model-alerts"
    assert manifest["metadata"]["labels"]["release"] == "prom"
    assert manifest["spec"]["groups"] == render.load_rules()["groups"]
    assert yaml.safe_load(render.render(namespace="house-price"))["metadata"]["namespace"] == "house-price"


def test_threshold_override_changes_that_rule_only(tmp_path: Path) -> None:
    default = yaml.safe_load(render.render())
    changed = yaml.safe_load(render.render(threshold_seconds=2.0))
    differences = [
        (old, new)
        for old_group, new_group in zip(default["spec"]["groups"], changed["spec"]["groups"], strict=True)
        for old, new in zip(old_group["rules"], new_group["rules"], strict=True)
        if old != new
    ]
    assert differences == [
        (
            {"record": render.THRESHOLD_RECORD, "expr": "vector(0.5)"},
            {"record": render.THRESHOLD_RECORD, "expr": "vector(2)"},
        )
    ]
    tested = run_unit_tests_against(
        {"groups": changed["spec"]["groups"]}, tmp_path, unit_tests_of("ModelApiHighLatency")
    )
    assert tested.returncode != 0, "a 0.97 s p95 must not fire against a 2 s threshold"
    assert "ModelApiHighLatency" in tested.stdout + tested.stderr


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_threshold_must_be_a_positive_number(bad: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        render.render(threshold_seconds=bad)


def test_render_command_line_writes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["--threshold-seconds", "0.75", "--out", "-"]) == 0
    assert "expr: vector(0.75)" in capsys.readouterr().out


@requires_prometheus
def test_prometheus_loads_and_evaluates_every_rule(stack: Stack) -> None:
    loaded = {rule.get("name"): rule for rule in stack.prometheus.rules()}
    expected = [
        rule.get("alert") or rule["record"] for group in render.load_rules()["groups"] for rule in group["rules"]
    ]
    assert sorted(loaded) == sorted(expected)
    assert {name: rule["health"] for name, rule in loaded.items() if rule["health"] != "ok"} == {}
    firing = [name for name, rule in loaded.items() if rule.get("state") == "firing"]
    assert firing == [], "a healthy service under normal load must not alert"
