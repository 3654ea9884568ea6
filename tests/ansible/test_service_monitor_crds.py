"""The service_monitor role on a cluster without kube-prometheus-stack names the CRDs it misses.

Column: rehearsal (a bare rehearsal Kubernetes API: no monitoring.coreos.com CRDs); ansible-playbook, the
kubernetes.core modules and the python client are real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.playbook_runner import REPO, PlaybookRun, run_playbook
from tests.rehearsal.fixtures import RehearsalCluster, start_cluster


def _service_monitor(cluster: RehearsalCluster, tmp_path: Path, state: Path, timeout: int) -> PlaybookRun:
    """site.yml --tags service_monitor on ``cluster`` (one inventory host), kubeconfig from ``state``."""
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "inventory" / "rehearsal" / "group_vars", inventory / "group_vars")
    hosts = {"all": {"children": {"clusters": {"hosts": {cluster.context: {}}}, "kind_clusters": {"hosts": {}}}}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return run_playbook(
        "site.yml",
        "--tags",
        "service_monitor",
        inventory=inventory / "hosts.yml",
        extra_vars={"service_monitor_crd_timeout": timeout},
        env={"MLMON_REHEARSAL_DIR": str(state), "MLMON_GRAFANA_ADMIN_PASSWORD": "crd-pw-1"},
    )


def test_missing_crds_are_named_after_the_timeout_and_nothing_is_written(tmp_path: Path) -> None:
    with start_cluster(tmp_path / "cluster") as cluster:
        mark = cluster.mark()
        run = _service_monitor(cluster, tmp_path, cluster.kubeconfig.parent, timeout=4)
        # Writes of the python client the kubernetes.core modules use (the kubelet registers its node meanwhile).
        writes = cluster.writes(mark, user_agent="OpenAPI-Generator")
    assert run.returncode != 0, run.tail()
    assert "servicemonitors.monitoring.coreos.com, prometheusrules.monitoring.coreos.com" in run.output, run.tail()
    assert "are not installed or not Established after 4 s" in run.output, run.tail()
    assert "--tags prometheus_stack" in run.output
    assert writes == [], writes


def test_a_cluster_that_refuses_the_list_ends_the_wait_at_once_with_its_reason(tmp_path: Path) -> None:
    with start_cluster(tmp_path / "cluster") as cluster:
        # The same cluster, with a token it does not know: every call is answered 401.
        config = yaml.safe_load(cluster.kubeconfig.read_text())
        for user in config["users"]:
            user["user"]["token"] = "not-a-token-of-this-cluster"
        state = tmp_path / "wrong-token"
        state.mkdir()
        (state / "kubeconfig").write_text(yaml.safe_dump(config))
        run = _service_monitor(cluster, tmp_path, state, timeout=120)
    assert run.returncode != 0, run.tail()
    assert "Could not list the CustomResourceDefinitions" in run.output, run.tail()
    assert "Unauthorized" in run.output or "401" in run.output, run.tail()
    assert "RETRYING" not in run.output, "a refused call must not be retried for the whole timeout"
