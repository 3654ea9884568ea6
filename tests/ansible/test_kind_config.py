"""The kind configuration the kind_cluster role renders publishes the three NodePorts on the host.

Column: real (ansible renders the role's template). kind itself runs in tests/e2e (column kind).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.playbook_runner import run_playbook


def test_kind_config_maps_the_nodeports_and_pins_the_node_image(tmp_path: Path) -> None:
    out = tmp_path / "kind-config.yml"
    run = run_playbook(
        "tests/ansible/playbooks/render_kind_config.yml",
        inventory="localhost,",
        extra_vars={"out": str(out), "kind_cluster_name": "mlmon"},
    )
    assert run.returncode == 0, run.tail()
    config = yaml.safe_load(out.read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["name"] == "mlmon"
    [node] = config["nodes"]
    assert node["role"] == "control-plane"
    assert node["image"].startswith("kindest/node:v1.34.")
    assert "@sha256:" in node["image"]
    mappings = {
        (m["containerPort"], m["hostPort"], m["listenAddress"], m["protocol"]) for m in node["extraPortMappings"]
    }
    assert mappings == {(p, p, "127.0.0.1", "TCP") for p in (30100, 30200, 30300)}
    allowed = {"containerPort", "hostPort", "listenAddress", "protocol"}
    assert all(set(m) <= allowed for m in node["extraPortMappings"]), "unknown keys in extraPortMappings"


def test_offline_config_disables_kinds_cni_and_logs_writes(tmp_path: Path) -> None:
    out = tmp_path / "kind-config.yml"
    run = run_playbook(
        "tests/ansible/playbooks/render_kind_config.yml",
        inventory="localhost,",
        extra_vars={
            "out": str(out),
            "kind_cluster_name": "mlmon",
            "kind_cluster_node_image": "localhost/mlmon/kind-node:v1.34.4",
            "kind_cluster_default_cni": False,
            "kind_cluster_audit_log": True,
            "role_path": str(Path("roles/kind_cluster").resolve()),
        },
    )
    assert run.returncode == 0, run.tail()
    config = yaml.safe_load(out.read_text())
    assert config["networking"] == {"disableDefaultCNI": True}
    [node] = config["nodes"]
    [mount] = node["extraMounts"]
    assert Path(mount["hostPath"]).is_file()
    [patch] = [yaml.safe_load(text) for text in node["kubeadmConfigPatches"]]
    args = patch["apiServer"]["extraArgs"]
    assert args["audit-policy-file"] == mount["containerPath"]
    assert {volume["mountPath"] for volume in patch["apiServer"]["extraVolumes"]} == {
        mount["containerPath"],
        str(Path(args["audit-log-path"]).parent),
    }
