"""The service_monitor role on a cluster without kube-prometheus-stack names the CRDs it misses.

Column: rehearsal (a bare rehearsal Kubernetes API: no monitoring.coreos.com CRDs); ansible-playbook, the
kubernetes.core modules and the python client are real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.playbook_runner import REPO, run_playbook
from tests.rehearsal.fixtures import start_cluster


def test_missing_crds_are_named_after_the_timeout_and_nothing_is_written(tmp_path: Path) -> None:
    with start_cluster(tmp_path / "cluster") as cluster:
        inventory = tmp_path / "inventory"
        shutil.copytree(REPO / "inventory" / "rehearsal" / "group_vars", inventory / "group_vars")
        hosts = {"all": {"children": {"clusters": {"hosts": {cluster.context: {}}}, "kind_clusters": {"hosts": {}}}}}
        (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
        mark = cluster.mark()
        run = run_playbook(
            "site.yml",
            "--tags",
            "service_monitor",
            inventory=inventory / "hosts.yml",
            extra_vars={"service_monitor_crd_timeout": 4},
            env={"MLMON_REHEARSAL_DIR": str(cluster.kubeconfig.parent), "MLMON_GRAFANA_ADMIN_PASSWORD": "crd-pw-1"},
        )
        # Writes of the python client the kubernetes.core modules use (the kubelet registers its node meanwhile).
        writes = cluster.writes(mark, user_agent="OpenAPI-Generator")
    assert run.returncode != 0, run.tail()
    assert "servicemonitors.monitoring.coreos.com, prometheusrules.monitoring.coreos.com" in run.output, run.tail()
    assert "are not installed or not Established after 4 s" in run.output, run.tail()
    assert "--tags prometheus_stack" in run.output
    assert writes == [], writes
