"""The manifests the roles apply pass the strict Kubernetes OpenAPI schemas of 1.29 to 1.33.

Column: real (ansible renders the roles' templates with their defaults; kubernetes-validate checks them
against the strict schemas, which reject unknown fields and wrong types). No cluster involved.
"""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from tests.playbook_runner import run_playbook

VERSIONS = ["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"]


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("manifests")
    run = run_playbook(
        "tests/ansible/playbooks/render_manifests.yml", inventory="localhost,", extra_vars={"out": str(out)}
    )
    assert run.returncode == 0, run.tail()
    # The ServiceMonitor and PrometheusRule (monitor-*) are custom resources: the real CRDs check them on kind.
    rendered = {path.stem: json.loads(path.read_text()) for path in sorted(out.glob("*.json"))}
    custom = {name for name in rendered if name.startswith("monitor-")}
    assert custom == {"monitor-servicemonitor", "monitor-prometheusrule"}
    rendered = {name: manifest for name, manifest in rendered.items() if not name.startswith("monitor-")}
    assert set(rendered) == {
        "model-namespace", "model-service", "model-deployment", "model-canary-deployment", "stack-namespace",
        "stack-secret",
        "stack-alertmanager-secret",
    }
    return rendered


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_and_strict(manifests: dict[str, dict], version: str) -> None:
    for name, manifest in manifests.items():
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name} is not valid for Kubernetes {version}: {error.message} at {list(error.path)}")


def test_the_validator_rejects_an_unknown_field(manifests: dict[str, dict]) -> None:
    """The check can fail: a typo in the pod template is caught."""
    broken = json.loads(json.dumps(manifests["model-deployment"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)


def test_the_canary_is_the_stable_deployment_with_its_own_name_track_and_replicas(manifests: dict[str, dict]) -> None:
    """Same pod template (image included) as the stable; selects only its own pods; the Service's label kept."""
    stable, canary = manifests["model-deployment"], manifests["model-canary-deployment"]
    assert canary["metadata"]["name"] == "model-canary"
    assert canary["metadata"]["labels"] == {**stable["metadata"]["labels"], "track": "canary"}
    assert canary["spec"]["replicas"] == 1
    assert canary["spec"]["selector"] == {"matchLabels": {"app": "model", "track": "canary"}}
    pod_labels = canary["spec"]["template"]["metadata"]["labels"]
    assert pod_labels == {**stable["spec"]["template"]["metadata"]["labels"], "track": "canary"}
    assert pod_labels["app"] == "model", "the Service selects app=model: the canary takes its share of the traffic"
    unchanged = [json.loads(json.dumps(m)) for m in (stable, canary)]
    for m in unchanged:
        m["metadata"]["name"] = "x"
        m["metadata"]["labels"].pop("track", None)
        m["spec"]["replicas"] = 0
        m["spec"]["selector"]["matchLabels"].pop("track", None)
        m["spec"]["template"]["metadata"]["labels"].pop("track", None)
    assert unchanged[0] == unchanged[1], "the canary differs from the stable in more than name, track and replicas"
