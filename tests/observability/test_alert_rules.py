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


DRIFT_GROUP = "mlmon-model-drift"
# The drill's settings: a short window, few houses, a quick alert, and thresholds that differ per alert.
DRIFT_SETTINGS = {
    "service_monitor_drift_window": "10m",
    "service_monitor_drift_min_observations": 40,
    "service_monitor_drift_psi_threshold": 0.5,
    "service_monitor_drift_for": "2m",
    "service_monitor_prediction_shift_psi_threshold": 0.3,
    "service_monitor_prediction_shift_for": "5m",
}


def changed_rules(default: dict[str, Any], changed: dict[str, Any]) -> dict[str, dict[str, tuple[Any, Any]]]:
    """Per rule that differs (by record or alert name), each key whose value changed: (default, changed)."""
    differences = {}
    for old_group, new_group in zip(default["spec"]["groups"], changed["spec"]["groups"], strict=True):
        for old, new in zip(old_group["rules"], new_group["rules"], strict=True):
            if old != new:
                name = old.get("record") or old["alert"]
                differences[name] = {
                    key: (old.get(key), new.get(key)) for key in old | new if old.get(key) != new.get(key)
                }
    return differences


def test_drift_settings_change_their_constants_durations_and_window_only(tmp_path: Path) -> None:
    default = rendered_rule(tmp_path / "default")
    changed = rendered_rule(tmp_path / "changed", **DRIFT_SETTINGS)
    differences = changed_rules(default, changed)
    assert differences.pop("mlmon:house_price_drift_min_observations") == {"expr": ("vector(250)", "vector(40)")}
    assert differences.pop("mlmon:house_price_drift_psi_threshold") == {"expr": ("vector(0.2)", "vector(0.5)")}
    assert differences.pop("mlmon:house_price_prediction_shift_psi_threshold") == {
        "expr": ("vector(0.2)", "vector(0.3)")
    }
    assert differences.pop("ModelInputDrift") == {"for": ("30m", "2m")}
    assert differences.pop("PredictionShift") == {"for": ("30m", "5m")}
    # What is left: the drift group's rules that read the window, each with [1h] become [10m] and nothing else.
    assert sorted(differences) == ["mlmon:house_price_drift:live_ratio", "mlmon:house_price_drift:observations"]
    for name, change in differences.items():
        old, new = change.pop("expr")
        assert change == {}, name
        assert "[1h]" in old and "[1h]" not in new and new == old.replace("[1h]", "[10m]"), name
    [drift] = [group for group in changed["spec"]["groups"] if group["name"] == DRIFT_GROUP]
    other_groups = yaml.safe_dump([group for group in changed["spec"]["groups"] if group["name"] != DRIFT_GROUP])
    assert "[10m]" not in other_groups, "the window belongs to the drift group only"
    assert "[1h]" not in yaml.safe_dump(drift)


def test_rules_rendered_with_the_drift_settings_are_valid_and_use_them(tmp_path: Path) -> None:
    """promtool checks the rendered rules, and a unit test shows the 10 m window, 40 houses and 2 m wait at work."""
    changed = rendered_rule(tmp_path / "rendered", **DRIFT_SETTINGS)
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": changed["spec"]["groups"]}, sort_keys=False))
    checked = promtool("check", "rules", str(rules_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    labels = 'namespace="house-price", job="model", model_version="1.0.0", feature="condition"'
    reference = [
        {"series": f'house_price_drift_reference_ratio{{{labels}, bin="{bin_}"}}', "values": "0.25x40"}
        for bin_ in ("Poor", "Fair", "Good", "Excellent")
    ]

    def only_poor_houses(per_minute: int) -> list[dict[str, str]]:
        return [
            {"series": f'house_price_drift_observations_total{{{labels}, bin="{bin_}"}}', "values": values}
            for bin_, values in [
                ("Poor", f"0+{per_minute}x40"),
                ("Fair", "0x40"),
                ("Good", "0x40"),
                ("Excellent", "0x40"),
            ]
        ]

    fired = {
        "exp_labels": {
            "severity": "warning",
            "namespace": "house-price",
            "job": "model",
            "model_version": "1.0.0",
            "feature": "condition",
        },
        "exp_annotations": {
            "summary": "Inputs to the model drift from its training data (condition)",
            "description": (
                "The condition values house-price/model receives for model 1.0.0 are distributed unlike its"
                " training data: PSI 6.91, above the threshold for longer than the alert waits."
            ),
            "runbook": "docs/runbooks.md#modelinputdrift",
        },
    }
    # Only "Poor" houses against training proportions of a quarter each: PSI 6.91. At 5 a minute the 10 m
    # window holds 40 houses from the 8th minute on, and the alert fires 2 minutes later; at 3 a minute it never
    # holds 40.
    unit_test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": reference + only_poor_houses(5),
                "promql_expr_test": [
                    {"expr": "mlmon:house_price_drift:psi", "eval_time": "7m", "exp_samples": []},
                    {
                        "expr": "round(mlmon:house_price_drift:psi, 0.01)",
                        "eval_time": "8m",
                        "exp_samples": [{"labels": f"{{{labels}}}", "value": 6.91}],
                    },
                ],
                "alert_rule_test": [
                    {"alertname": "ModelInputDrift", "eval_time": "9m", "exp_alerts": []},
                    {"alertname": "ModelInputDrift", "eval_time": "11m", "exp_alerts": [fired]},
                ],
            },
            {
                "interval": "1m",
                "input_series": reference + only_poor_houses(3),
                "alert_rule_test": [{"alertname": "ModelInputDrift", "eval_time": "40m", "exp_alerts": []}],
            },
        ],
    }
    (tmp_path / "drill.yml").write_text(yaml.safe_dump(unit_test, sort_keys=False))
    tested = promtool("test", "rules", "drill.yml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@requires_prometheus
def test_prometheus_loads_and_evaluates_every_rule(stack: Stack) -> None:
    loaded = {rule.get("name"): rule for rule in stack.prometheus.rules()}
    expected = [rule.get("alert") or rule["record"] for group in load_rules()["groups"] for rule in group["rules"]]
    assert sorted(loaded) == sorted(expected)
    assert {name: rule["health"] for name, rule in loaded.items() if rule["health"] != "ok"} == {}
    firing = [name for name, rule in loaded.items() if rule.get("state") == "firing"]
    assert firing == [], "a healthy service under normal load must not alert"
