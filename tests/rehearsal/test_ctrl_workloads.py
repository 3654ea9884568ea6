"""Column: rehearsal. What the ReplicaSet, StatefulSet and endpoints controllers compute from the
pods they see, pinned to upstream: which pods a ReplicaSet deletes first, the status counters,
Endpoints subsets (ready vs not ready, terminating pods out, named target ports) and
EndpointSlice conditions; and which container instance's log the kubelet reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal.kube.controllers.endpoints import endpoint_subsets, find_port, slice_groups
from tests.rehearsal.kube.controllers.kubelet import Kubelet
from tests.rehearsal.kube.controllers.kubelet_config import KubeletConfig
from tests.rehearsal.kube.controllers.podlogs import LogUnavailable, pod_log_dir
from tests.rehearsal.kube.controllers.pods import deletion_order
from tests.rehearsal.kube.controllers.replicaset import replicaset_status
from tests.rehearsal.kube.controllers.statefulset import statefulset_status

Obj = dict[str, Any]
T0 = "2024-01-01T00:00:00Z"


def pod(name: str, *, ready: bool = True, phase: str = "Running", ip: str = "127.11.0.2",
        node: str = "n", created: str = T0, ready_since: str = T0, deleting: bool = False,
        labels: dict[str, str] | None = None, restarts: int = 0) -> Obj:
    meta: Obj = {"name": name, "namespace": "ns", "uid": f"uid-{name}", "creationTimestamp": created,
                 "labels": labels if labels is not None else {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = T0
    return {
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [
            {"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {
            "phase": phase,
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                            "lastTransitionTime": ready_since}],
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        },
    }


def names(pods: list[Obj]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_scale_down_deletes_the_least_useful_pods_first() -> None:
    pods = [
        pod("ready-old", created="2024-01-01T00:00:00Z"),
        pod("ready-new", created="2024-01-02T00:00:00Z"),
        pod("not-ready", ready=False),
        pod("pending", phase="Pending", ready=False),
        pod("unscheduled", phase="Pending", ready=False, node=""),
        pod("crashy", restarts=5),
    ]
    assert names(deletion_order(pods)) == [
        "unscheduled", "pending", "not-ready", "crashy", "ready-new", "ready-old",
    ]


def test_replicaset_status_counts() -> None:
    rs = {"metadata": {"generation": 3}, "spec": {
        "minReadySeconds": 10, "template": {"metadata": {"labels": {"app": "web", "v": "1"}}}}}
    pods = [
        pod("a", labels={"app": "web", "v": "1"}, ready_since="2024-01-01T00:00:00Z"),
        pod("b", labels={"app": "web"}, ready_since="2024-01-01T00:00:55Z"),
        pod("c", ready=False, labels={"app": "web", "v": "1"}),
    ]
    at = 1704067260.0
    assert replicaset_status(rs, pods, None, at) == {
        "replicas": 3, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 1,
        "observedGeneration": 3,
    }
    assert replicaset_status(rs, [], None, at) == {"replicas": 0, "observedGeneration": 3}


def test_statefulset_revisions_converge_when_all_pods_are_updated_and_ready() -> None:
    sts = {"metadata": {"generation": 2}, "spec": {"replicas": 2},
           "status": {"currentRevision": "db-old", "updateRevision": "db-new"}}
    mixed = [pod("db-0", labels={"controller-revision-hash": "db-old"}),
             pod("db-1", labels={"controller-revision-hash": "db-new"})]
    status = statefulset_status(sts, mixed, "db-new", 0)
    assert (status["currentRevision"], status["currentReplicas"], status["updatedReplicas"]) == (
        "db-old", 1, 1)
    done = [pod("db-0", labels={"controller-revision-hash": "db-new"}),
            pod("db-1", labels={"controller-revision-hash": "db-new"})]
    status = statefulset_status(sts, done, "db-new", 0)
    assert (status["currentRevision"], status["currentReplicas"]) == ("db-new", 2)
    assert (status["replicas"], status["availableReplicas"], status["collisionCount"]) == (2, 2, 0)


def service(**spec: Any) -> Obj:
    return {"metadata": {"name": "web", "namespace": "ns"},
            "spec": {"selector": {"app": "web"},
                     "ports": [{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"}],
                     **spec}}


def test_named_target_ports_resolve_per_pod() -> None:
    assert find_port(pod("a"), {"targetPort": "http"}) == 8080
    assert find_port(pod("a"), {"targetPort": 9000}) == 9000
    assert find_port(pod("a"), {"targetPort": "metrics"}) is None
    assert find_port(pod("a"), {"port": 81}) == 81


def test_endpoints_split_ready_and_not_ready_and_drop_terminating_pods() -> None:
    pods = [pod("b", ip="127.11.0.10"), pod("a", ip="127.11.0.9"),
            pod("slow", ready=False, ip="127.11.0.3"), pod("bye", deleting=True, ip="127.11.0.4"),
            pod("done", phase="Succeeded", ip="127.11.0.5"), pod("no-ip", ip="")]
    (subset,) = endpoint_subsets(service(), pods)
    assert [a["ip"] for a in subset["addresses"]] == ["127.11.0.9", "127.11.0.10"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["127.11.0.3"]
    assert subset["addresses"][0]["targetRef"] == {
        "kind": "Pod", "namespace": "ns", "name": "a", "uid": "uid-a"}
    assert subset["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    (published,) = endpoint_subsets(service(publishNotReadyAddresses=True), pods)
    assert len(published["addresses"]) == 4 and "notReadyAddresses" not in published


def test_endpoint_slices_keep_terminating_pods_with_their_conditions() -> None:
    pods = [pod("a", ip="127.11.0.9"), pod("bye", deleting=True, ip="127.11.0.4"),
            pod("slow", ready=False, ip="127.11.0.3")]
    ((ports, endpoints),) = slice_groups(service(), pods).values()
    assert ports == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    conditions = {e["targetRef"]["name"]: e["conditions"] for e in endpoints}
    assert conditions == {
        "a": {"ready": True, "serving": True, "terminating": False},
        "bye": {"ready": False, "serving": True, "terminating": True},
        "slow": {"ready": False, "serving": False, "terminating": False},
    }


def test_headless_endpoints_carry_the_pod_hostname() -> None:
    member = pod("db-0")
    member["spec"].update(hostname="db-0", subdomain="web")
    (subset,) = endpoint_subsets(service(clusterIP="None"), [member])
    assert subset["addresses"][0]["hostname"] == "db-0"
    (subset,) = endpoint_subsets(service(), [member])
    assert "hostname" not in subset["addresses"][0]


def test_the_log_read_is_the_instance_the_status_names(tmp_path: Path) -> None:
    """validateContainerLogStatus: running or terminated instance, else the last terminated one;
    ``previous`` the last terminated one; otherwise the kubelet's 400 message."""
    kubelet = Kubelet(cluster_name="c", node_ip="127.0.1.1", pod_network="127.11.0.0/16",
                      kubernetes_version="1.33", config=KubeletConfig(log_dir=tmp_path))
    directory = pod_log_dir(tmp_path, "ns", "web-1", "uid-web-1") / "c"
    directory.mkdir(parents=True)
    for instance in (0, 1):
        (directory / f"{instance}.log").write_text(f"instance {instance}\n")
        kubelet.container_logs[f"containerd://{instance}"] = directory / f"{instance}.log"
    first, second = {"terminated": {"exitCode": 3, "containerID": "containerd://0"}}, \
        {"running": {"startedAt": T0}}
    running = pod("web-1", restarts=1)
    running["status"]["containerStatuses"][0].update(
        state=second, lastState=first, containerID="containerd://1")
    assert kubelet.log_file(running, "c") == directory / "1.log"
    assert kubelet.log_file(running, "c", previous=True) == directory / "0.log"
    backing_off = pod("web-1")
    backing_off["status"]["containerStatuses"][0].update(
        state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=first)
    assert kubelet.log_file(backing_off, "c") == directory / "0.log"
    assert kubelet.log_file(backing_off, "c", previous=True) == directory / "0.log"
    pulling = pod("web-1")
    pulling["status"]["containerStatuses"][0].update(state={"waiting": {"reason": "ImagePullBackOff"}})
    expected = {
        ("c", False): 'container "c" in pod "web-1" is waiting to start: trying and failing to pull image',
        ("c", True): 'previous terminated container "c" in pod "web-1" not found',
        ("other", False): 'container "other" in pod "web-1" is not available',
    }
    for (name, previous), message in expected.items():
        with pytest.raises(LogUnavailable) as refused:
            kubelet.log_file(pulling, name, previous=previous)
        assert str(refused.value) == message
    creating = pod("web-1")
    creating["status"]["containerStatuses"][0].update(state={"waiting": {"reason": "ContainerCreating"}})
    with pytest.raises(LogUnavailable, match=r'is waiting to start: ContainerCreating$'):
        kubelet.log_file(creating, "c")
