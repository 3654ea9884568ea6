"""The offline inventory names exactly the images images/build.sh builds, at the versions it pins.

Column: real (reads the files; the images themselves run in tests/e2e, column kind).
"""

from __future__ import annotations

import re

import yaml

from tests.playbook_runner import REPO

VERSIONS = dict(
    line.split("=", 1)
    for line in (REPO / "images" / "versions.env").read_text().splitlines()
    if line and not line.startswith("#")
)
OFFLINE = yaml.safe_load((REPO / "inventory" / "local" / "group_vars" / "offline.yml").read_text())
BUILD = (REPO / "images" / "build.sh").read_text()


def test_the_node_image_is_the_pinned_kubernetes_release() -> None:
    assert OFFLINE["mlmon_kind_node_image"] == f"localhost/mlmon/kind-node:{VERSIONS['KUBERNETES_VERSION']}"
    assert OFFLINE["mlmon_kind_default_cni"] is False


def test_every_loaded_image_is_built_at_its_pinned_version() -> None:
    v = VERSIONS
    expected = {
        f"quay.io/prometheus-operator/prometheus-operator:{v['PROMETHEUS_OPERATOR_VERSION']}",
        f"quay.io/prometheus-operator/prometheus-config-reloader:{v['PROMETHEUS_OPERATOR_VERSION']}",
        f"quay.io/prometheus/prometheus:{v['PROMETHEUS_VERSION']}-distroless",
        f"quay.io/prometheus/alertmanager:{v['ALERTMANAGER_VERSION']}",
        f"registry.k8s.io/kube-state-metrics/kube-state-metrics:{v['KUBE_STATE_METRICS_VERSION']}",
        f"quay.io/prometheus/node-exporter:{v['NODE_EXPORTER_VERSION']}-distroless",
        f"localhost/mlmon/grafana-standin:{v['GRAFANA_STANDIN_TAG']}",
    }
    assert set(OFFLINE["mlmon_kind_images"]) == expected
    values = OFFLINE["prometheus_stack_extra_values"]
    assert values["alertmanager"]["alertmanagerSpec"]["image"]["tag"] == v["ALERTMANAGER_VERSION"]
    grafana = values["grafana"]["image"]
    assert f"{grafana['registry']}/{grafana['repository']}:{grafana['tag']}" in expected


def test_every_go_module_is_pinned_to_an_exact_version() -> None:
    for module_line in re.findall(r'go_install\s+\\?\s*"([^"]+)"', BUILD):
        _, _, version = module_line.partition("@")
        assert version.startswith("$"), module_line
        assert VERSIONS[version.strip("${}")].startswith("v"), module_line
    for wrapper in ("kubernetes", "etcd", "prometheus-operator", "prometheus"):
        text = (REPO / "images" / wrapper / "go.mod").read_text()
        assert not re.search(r"\blatest\b|=> \./", text), wrapper
