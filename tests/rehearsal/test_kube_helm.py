"""Column: rehearsal. The real helm 3.17 against the rehearsal apiserver.

helm installs, upgrades, rolls back and uninstalls the tiny chart tests/rehearsal/charts/
rehearsal-demo (a CRD and a custom resource, a Deployment, a Service, a Secret). Pins what helm
needs: OpenAPI v3 with server-side field validation, protobuf-encoded release Secrets labelled
``owner=helm``, strategic merge patches on upgrade and rollback, waiting for the CRD.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client as k8s

from tests.rehearsal.conftest import Kube

CHART = Path(__file__).parent / "charts" / "rehearsal-demo"


def _release_secrets(kube: Kube, namespace: str) -> list[dict[str, str]]:
    secrets = k8s.CoreV1Api(kube.api).list_namespaced_secret(namespace, label_selector="owner=helm,name=demo")
    return [s.metadata.labels for s in secrets.items]


def test_install_upgrade_rollback_uninstall(kube: Kube, namespace: str) -> None:
    kube.helm("install", "demo", str(CHART), "-n", namespace, "--wait", "--timeout", "60s", "--set", "replicas=0")
    listed = json.loads(kube.helm("list", "-n", namespace, "-o", "json").stdout)
    assert [(r["name"], r["status"], r["revision"]) for r in listed] == [("demo", "deployed", "1")]
    assert [labels["status"] for labels in _release_secrets(kube, namespace)] == ["deployed"]
    widget = json.loads(kube.kubectl("get", "widget", "demo-widget", "-n", namespace, "-o", "json").stdout)
    assert widget["spec"] == {"size": 3, "colour": "blue"}

    kube.helm(
        "upgrade",
        "demo",
        str(CHART),
        "-n",
        namespace,
        "--set",
        "replicas=0",
        "--set",
        "widgetSize=5",
        "--set",
        "greeting=hi",
    )
    assert kube.kubectl("get", "widget", "demo-widget", "-n", namespace, "-o", "jsonpath={.spec.size}").stdout == "5"
    env = kube.kubectl(
        "get", "deploy", "demo-web", "-n", namespace, "-o", "jsonpath={.spec.template.spec.containers[0].env[0].value}"
    )
    assert env.stdout == "hi"

    kube.helm("rollback", "demo", "1", "-n", namespace)
    assert kube.kubectl("get", "widget", "demo-widget", "-n", namespace, "-o", "jsonpath={.spec.size}").stdout == "3"
    history = json.loads(kube.helm("history", "demo", "-n", namespace, "-o", "json").stdout)
    assert [h["status"] for h in history] == ["superseded", "superseded", "deployed"]
    assert sorted(labels["version"] for labels in _release_secrets(kube, namespace)) == ["1", "2", "3"]

    kube.helm("uninstall", "demo", "-n", namespace)
    assert _release_secrets(kube, namespace) == []
    gone = kube.kubectl("get", "deploy,svc,secret,widget", "-n", namespace, "-o", "name").stdout
    assert gone.strip() == ""


def test_invalid_custom_resource_fails_the_install(kube: Kube, namespace: str) -> None:
    kube.helm("install", "demo", str(CHART), "-n", namespace, "--set", "replicas=0")
    failed = kube.helm("upgrade", "demo", str(CHART), "-n", namespace, "--set", "widgetSize=11", check=False)
    assert failed.returncode == 1
    assert "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10" in failed.stderr
    kube.helm("uninstall", "demo", "-n", namespace)
