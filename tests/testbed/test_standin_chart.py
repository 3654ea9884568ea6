"""The stand-in kube-prometheus-stack chart (testbed/charts/kube-prometheus-stack), its contract.

Column: real (the real helm binary lints and renders the chart). What a real API server makes of the
rendered custom resources, with prometheus-operator's real CRDs, is tested on kind
(tests/e2e/test_site.py). The names, labels
and ports asserted here are the real chart's for release ``prom`` in namespace ``monitoring``
(kube-prometheus-stack 88.5.3: fullname ``prom-kube-prometheus-stack``).
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from testbed.charts import gen_values_schema
from tests.playbook_runner import BIN, run_playbook

CHART = Path(gen_values_schema.__file__).parent / "kube-prometheus-stack"
# make setup installs the pinned helm into the venv.
HELM = str(BIN / "helm")

# The values mlmon's prometheus_stack role passes (Alertmanager's configuration aside: see
# test_the_roles_alertmanager_values_render_its_config_over_the_charts), plus components switched off.
MLMON_VALUES: dict[str, Any] = {
    "prometheus": {
        "service": {"type": "NodePort", "nodePort": 30300},
        "prometheusSpec": {
            "retention": "10d",
            "resources": {"requests": {"cpu": "200m", "memory": "512Mi"},
                          "limits": {"memory": "2Gi"}},
        },
    },
    "grafana": {
        "service": {"type": "NodePort", "nodePort": 30200},
        "admin": {"existingSecret": "mlmon-grafana-admin", "userKey": "admin-user",
                  "passwordKey": "admin-password"},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "512Mi"}},
    },
    "alertmanager": {"enabled": True, "alertmanagerSpec": {"secrets": ["mlmon-alertmanager-receivers"]}},
    "kubeStateMetrics": {"enabled": False},
    "nodeExporter": {"enabled": False},
}

def helm(*args: str, values: dict[str, Any] | None = None,
         tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [HELM, *args]
    if values is not None:
        assert tmp_path is not None
        path = tmp_path / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        argv += ["-f", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def render(tmp_path: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    done = helm("template", "prom", str(CHART), "-n", "monitoring", values=values or {},
                tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name} among {sorted(names(docs))}"
    return matches[0]


def names(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


def test_helm_lint_passes() -> None:
    """real: helm lint accepts the chart with its defaults."""
    done = helm("lint", str(CHART))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_chart_pins_the_real_version() -> None:
    """real: Chart.yaml names the kube-prometheus-stack version mlmon pins."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"], chart["appVersion"]) == (
        "kube-prometheus-stack", "88.5.3", "v0.93.1")


def test_mlmon_values_render_the_objects_mlmon_depends_on(tmp_path: Path) -> None:
    """real: helm template with mlmon's values renders the real chart's names for release prom."""
    docs = render(tmp_path, MLMON_VALUES)
    assert {
        ("Deployment", "prom-kube-prometheus-stack-operator"),
        ("Service", "prom-kube-prometheus-stack-operator"),
        ("ServiceAccount", "prom-kube-prometheus-stack-operator"),
        ("ClusterRole", "prom-kube-prometheus-stack-operator"),
        ("ClusterRoleBinding", "prom-kube-prometheus-stack-operator"),
        ("Prometheus", "prom-kube-prometheus-stack-prometheus"),
        ("Service", "prom-kube-prometheus-stack-prometheus"),
        ("ServiceAccount", "prom-kube-prometheus-stack-prometheus"),
        ("ClusterRole", "prom-kube-prometheus-stack-prometheus"),
        ("ServiceMonitor", "prom-kube-prometheus-stack-prometheus"),
        ("Deployment", "prom-grafana"),
        ("Service", "prom-grafana"),
        ("ServiceAccount", "prom-grafana"),
        ("ConfigMap", "prom-kube-prometheus-stack-grafana-datasource"),
        ("Alertmanager", "prom-kube-prometheus-stack-alertmanager"),
        ("Secret", "alertmanager-prom-kube-prometheus-stack-alertmanager"),
        ("Service", "prom-kube-prometheus-stack-alertmanager"),
    } <= names(docs)
    assert all(d["metadata"].get("namespace", "monitoring") == "monitoring" for d in docs)
    assert "DaemonSet" not in {kind for kind, _ in names(docs)}
    assert ("Deployment", "prom-kube-state-metrics") not in names(docs)


def test_prometheus_cr_selects_by_release_label(tmp_path: Path) -> None:
    """real: the Prometheus CR selects ServiceMonitors and rules labelled release: prom."""
    spec = find(render(tmp_path, MLMON_VALUES), "Prometheus",
                "prom-kube-prometheus-stack-prometheus")["spec"]
    assert spec["serviceMonitorSelector"] == {"matchLabels": {"release": "prom"}}
    assert spec["ruleSelector"] == {"matchLabels": {"release": "prom"}}
    assert spec["serviceMonitorNamespaceSelector"] == {}
    assert spec["ruleNamespaceSelector"] == {}
    assert spec["retention"] == "10d"
    assert spec["resources"]["limits"] == {"memory": "2Gi"}
    assert spec["image"] == "quay.io/prometheus/prometheus:v3.14.0-distroless"
    assert spec["portName"] == "http-web"
    assert spec["externalUrl"] == "http://prom-kube-prometheus-stack-prometheus.monitoring:9090"
    assert spec["alerting"]["alertmanagers"] == [{
        "namespace": "monitoring", "name": "prom-kube-prometheus-stack-alertmanager", "port": "http-web",
        "pathPrefix": "/", "apiVersion": "v2"}]


def test_nil_uses_helm_values_off_selects_everything(tmp_path: Path) -> None:
    """real: with *SelectorNilUsesHelmValues false the selectors are empty (match all)."""
    values = {"prometheus": {"prometheusSpec": {
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False}}}
    spec = find(render(tmp_path, values), "Prometheus",
                "prom-kube-prometheus-stack-prometheus")["spec"]
    assert spec["serviceMonitorSelector"] == {}
    assert spec["ruleSelector"] == {}
    assert spec["podMonitorSelector"] == {"matchLabels": {"release": "prom"}}


def test_services_publish_node_ports(tmp_path: Path) -> None:
    """real: Prometheus and Grafana Services carry the real port names and the NodePorts."""
    docs = render(tmp_path, MLMON_VALUES)
    prom = find(docs, "Service", "prom-kube-prometheus-stack-prometheus")["spec"]
    assert prom["type"] == "NodePort"
    assert prom["ports"][0] == {"name": "http-web", "nodePort": 30300, "port": 9090,
                                "targetPort": 9090}
    assert prom["selector"] == {"app.kubernetes.io/name": "prometheus",
                                "operator.prometheus.io/name":
                                "prom-kube-prometheus-stack-prometheus"}
    grafana = find(docs, "Service", "prom-grafana")["spec"]
    assert grafana["type"] == "NodePort"
    assert grafana["ports"] == [{"name": "http-web", "port": 80, "protocol": "TCP",
                                 "targetPort": "grafana", "nodePort": 30200}]
    deployment = find(docs, "Deployment", "prom-grafana")["spec"]["template"]["spec"]
    container = next(c for c in deployment["containers"] if c["name"] == "grafana")
    assert {"name": "grafana", "containerPort": 3000, "protocol": "TCP"} in container["ports"]


def test_grafana_reads_admin_from_existing_secret(tmp_path: Path) -> None:
    """real: with grafana.admin.existingSecret no admin Secret is rendered and the env reads the
    user's Secret with the configured keys."""
    docs = render(tmp_path, MLMON_VALUES)
    assert ("Secret", "prom-grafana") not in names(docs)
    pod = find(docs, "Deployment", "prom-grafana")["spec"]["template"]["spec"]
    env = {e["name"]: e for c in pod["containers"] if c["name"] == "grafana" for e in c["env"]}
    assert env["GF_SECURITY_ADMIN_USER"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlmon-grafana-admin", "key": "admin-user"}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlmon-grafana-admin", "key": "admin-password"}


def test_grafana_admin_secret_without_existing_secret(tmp_path: Path) -> None:
    """real: without an existing secret the chart renders prom-grafana with the given password."""
    docs = render(tmp_path, {"grafana": {"adminPassword": "s3cret-pw"}})
    secret = find(docs, "Secret", "prom-grafana")
    assert secret["data"]["admin-password"] == "czNjcmV0LXB3"
    pod = find(docs, "Deployment", "prom-grafana")["spec"]["template"]["spec"]
    env = {e["name"]: e for c in pod["containers"] if c["name"] == "grafana" for e in c["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "prom-grafana"


def test_grafana_datasource_points_at_prometheus(tmp_path: Path) -> None:
    """real: the datasource ConfigMap (sidecar label) defines Prometheus, uid prometheus."""
    cm = find(render(tmp_path, MLMON_VALUES), "ConfigMap",
              "prom-kube-prometheus-stack-grafana-datasource")
    assert cm["metadata"]["labels"]["grafana_datasource"] == "1"
    datasources = yaml.safe_load(cm["data"]["datasource.yaml"])["datasources"]
    prometheus = next(d for d in datasources if d["type"] == "prometheus")
    assert (prometheus["name"], prometheus["uid"], prometheus["isDefault"]) == (
        "Prometheus", "prometheus", True)
    assert prometheus["url"] == "http://prom-kube-prometheus-stack-prometheus.monitoring:9090/"


def test_optional_components_render_with_real_images(tmp_path: Path) -> None:
    """real: with the defaults, the components mlmon does not use are rendered with the real
    chart's images (inventory/local/group_vars/offline.yml turns off those not built here)."""
    docs = render(tmp_path)
    images = {c["image"] for d in docs if d["kind"] in ("Deployment", "DaemonSet", "Job")
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert {
        "quay.io/prometheus-operator/prometheus-operator:v0.93.1",
        "docker.io/grafana/grafana:13.2.0",
        "quay.io/kiwigrid/k8s-sidecar:2.10.1",
        "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
        "quay.io/prometheus/node-exporter:v1.12.1-distroless",
        "ghcr.io/jkroepke/kube-webhook-certgen:1.8.7",
    } <= images
    am = find(docs, "Alertmanager", "prom-kube-prometheus-stack-alertmanager")
    assert am["spec"]["image"] == "quay.io/prometheus/alertmanager:v0.34.0"
    assert "secrets" not in am["spec"], "no secrets: the field is left out, as the real chart does"
    assert ("PrometheusRule", "prom-kube-prometheus-stack-general.rules") in names(docs)
    prometheus = find(docs, "Prometheus", "prom-kube-prometheus-stack-prometheus")["spec"]
    assert prometheus["alerting"]["alertmanagers"][0]["name"] == (
        "prom-kube-prometheus-stack-alertmanager")


def test_operator_without_tls_serves_http(tmp_path: Path) -> None:
    """real: prometheusOperator.tls.enabled=false switches the operator to http on 8080."""
    docs = render(tmp_path, {"prometheusOperator": {"tls": {"enabled": False},
                                                   "admissionWebhooks": {"enabled": False}}})
    deployment = find(docs, "Deployment", "prom-kube-prometheus-stack-operator")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "--web.listen-address=:8080" in container["args"]
    assert container["ports"] == [{"containerPort": 8080, "name": "http"}]
    assert "volumes" not in pod
    assert not {kind for kind, _ in names(docs)} & {"Job", "ValidatingWebhookConfiguration"}


@pytest.mark.parametrize(("values", "named"), [
    ({"prometheus": {"prometheusSpec": {"retension": "5d"}}}, "retension"),
    ({"grafana": {"admin": {"existingSecrets": "x"}}}, "existingSecrets"),
    ({"grafana": {"service": {"nodeport": 30200}}}, "nodeport"),
    ({"prometheusStack": {"enabled": False}}, "prometheusStack"),
])
def test_misspelled_key_fails_naming_it(tmp_path: Path, values: dict[str, Any],
                                        named: str) -> None:
    """real: a key the real chart does not have fails helm template with its name."""
    done = helm("template", "prom", str(CHART), "-n", "monitoring", values=values,
                tmp_path=tmp_path)
    assert done.returncode != 0
    assert f"Additional property {named} is not allowed" in done.stderr


def test_wrong_type_fails_naming_the_key(tmp_path: Path) -> None:
    """real: a nodePort given as a string fails helm template naming the key."""
    done = helm("template", "prom", str(CHART), "-n", "monitoring",
                values={"prometheus": {"service": {"nodePort": "30300"}}}, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "prometheus.service.nodePort" in done.stderr


def test_rendered_builtin_objects_are_valid_kubernetes(tmp_path: Path) -> None:
    """real: every built-in object the defaults render passes Kubernetes 1.33's strict schemas."""
    for doc in render(tmp_path):
        if doc["apiVersion"].startswith("monitoring.coreos.com"):
            continue
        kubernetes_validate.validate(doc, "1.33", strict=True)


def test_values_schema_is_what_the_generator_writes() -> None:
    """real: the committed values.schema.json is gen_values_schema.py's output."""
    assert (CHART / "values.schema.json").read_text() == gen_values_schema.render()
    assert json.loads(gen_values_schema.render())["additionalProperties"] is False


def test_alertmanager_mounts_the_secrets_it_is_given(tmp_path: Path) -> None:
    """real: alertmanager.alertmanagerSpec.secrets becomes the CR's spec.secrets, which the operator mounts
    at /etc/alertmanager/secrets/<name>/ (as the real chart's templates/alertmanager/alertmanager.yaml)."""
    docs = render(tmp_path, {"alertmanager": {"alertmanagerSpec": {"secrets": ["receivers", "tls"]}}})
    am = find(docs, "Alertmanager", "prom-kube-prometheus-stack-alertmanager")
    assert am["spec"]["secrets"] == ["receivers", "tls"]


def test_the_roles_alertmanager_values_render_its_config_over_the_charts(tmp_path: Path) -> None:
    """real: the prometheus_stack role's own values (rendered by ansible-playbook) make the config Secret
    Alertmanager loads: the role's route, receivers and inhibit rules, the chart's templates beside them (Helm
    merges maps and replaces lists), and the receivers' Secret mounted."""
    out = tmp_path / "role"
    out.mkdir()
    run = run_playbook("tests/ansible/playbooks/render_alertmanager.yml", inventory="localhost,", extra_vars={
        "out": str(out), "write_secrets": False,
        "prometheus_stack_alert_webhook_url": "https://hooks.example.com/mlmon?token=not-in-values"})
    assert run.returncode == 0, run.tail()
    values = json.loads((out / "values.json").read_text())
    docs = render(tmp_path, {"alertmanager": values["alertmanager"]})
    secret = find(docs, "Secret", "alertmanager-prom-kube-prometheus-stack-alertmanager")
    config = yaml.safe_load(base64.b64decode(secret["data"]["alertmanager.yaml"]))
    assert config == {**values["alertmanager"]["config"], "templates": ["/etc/alertmanager/config/*.tmpl"]}
    assert "not-in-values" not in json.dumps(docs)
    am = find(docs, "Alertmanager", "prom-kube-prometheus-stack-alertmanager")
    assert am["spec"]["secrets"] == ["mlmon-alertmanager-receivers"]
