"""Column: rehearsal. Pods on the rehearsal node through real clients: readiness keeps a pod out
of the Service's endpoints, liveness restarts it, a crashing process ends in CrashLoopBackOff, a
missing Secret is CreateContainerConfigError until it exists, deletion runs preStop before the
endpoints... and StatefulSet pods come and go in order."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch

from tests.rehearsal.test_ctrl_cluster import (
    CtrlCluster,
    answered,
    ctrl_cluster_running,
    http_get,
    namespace_in,
    wait_for,
)


@pytest.fixture(scope="module")
def ctrl_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CtrlCluster]:
    with ctrl_cluster_running(tmp_path_factory.mktemp("pods")) as cluster:
        yield cluster


@pytest.fixture
def ns(ctrl_cluster: CtrlCluster) -> Iterator[str]:
    with namespace_in(ctrl_cluster) as name:
        yield name


READY_PROBE = "    readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}\n"


def pod_manifest(ns: str, name: str, image: str, www: Path | str, extra: str = "",
                 policy: str = "Always") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}
spec:
  restartPolicy: {policy}
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: "{image}"
    args: ["--directory", "{www}"]
    ports: [{{name: http, containerPort: 8080}}]
{extra}"""


def service_manifest(ns: str, name: str) -> str:
    return f"""
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  type: NodePort
  selector: {{app: {name}}}
  ports: [{{name: web, port: 80, targetPort: http}}]
"""


def container(pod: Any) -> Any:
    statuses = pod.status.container_statuses or []
    return statuses[0] if statuses else None


def ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def event_seen(cluster: CtrlCluster, ns: str, pod: str, reason: str, message: str) -> Any:
    return wait_for(cluster.api(), "events", ns,
                    lambda e: (e.reason, e.message) == (reason, message),
                    field_selector=f"involvedObject.name={pod}")


def test_readiness_decides_endpoints_and_service_traffic(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "web", "rehearsal/http:1",
                                                                tmp_path, READY_PROBE)
                         + service_manifest(ns, "web"))
    api = ctrl_cluster.api()
    core = k8s.CoreV1Api(api)
    pod = wait_for(api, "pods", ns, lambda p: bool(container(p) and container(p).started))
    assert pod.status.phase == "Running" and not container(pod).ready
    endpoints = wait_for(api, "endpoints", ns, lambda e: bool(e.subsets))
    (subset,) = endpoints.subsets
    assert subset.addresses is None
    assert [a.ip for a in subset.not_ready_addresses] == [pod.status.pod_ip]
    event_seen(ctrl_cluster, ns, "web", "Unhealthy",
               "Readiness probe failed: HTTP probe failed with statuscode: 404")
    svc = core.read_namespaced_service("web", ns)
    node_port = ctrl_cluster.node_port_url(svc.spec.ports[0].node_port)
    with pytest.raises(OSError):
        http_get(node_port)
    (tmp_path / "ready").write_text("ok\n")
    wait_for(api, "endpoints", ns,
             lambda e: bool(e.subsets and e.subsets[0].addresses
                            and e.subsets[0].addresses[0].ip == pod.status.pod_ip))
    assert answered(node_port) == 200
    assert answered(f"http://{svc.spec.cluster_ip}:80") == 200
    slices = k8s.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        ns, label_selector="kubernetes.io/service-name=web").items
    (endpoint,) = slices[0].endpoints
    assert (endpoint.conditions.ready, endpoint.conditions.serving,
            endpoint.conditions.terminating) == (True, True, False)
    assert endpoint.target_ref.name == "web"


def test_liveness_failure_restarts_the_container(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    (tmp_path / "healthz").write_text("ok\n")
    (tmp_path / "ready").write_text("ok\n")
    probe = ("    livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1,"
             " failureThreshold: 2}\n" + READY_PROBE)
    ctrl_cluster.kubectl("apply", "-f", "-",
                         stdin=pod_manifest(ns, "live", "rehearsal/http:1", tmp_path, probe))
    api = ctrl_cluster.api()
    wait_for(api, "pods", ns, ready)
    (tmp_path / "healthz").unlink()
    restarted = wait_for(api, "pods", ns, lambda p: bool(container(p) and container(p).restart_count))
    (tmp_path / "healthz").write_text("ok\n")
    status = container(restarted)
    assert status.restart_count == 1
    assert status.last_state.terminated is not None
    event_seen(ctrl_cluster, ns, "live", "Killing",
               "Container web failed liveness probe, will be restarted")
    event_seen(ctrl_cluster, ns, "live", "Unhealthy",
               "Liveness probe failed: HTTP probe failed with statuscode: 404")
    again = wait_for(api, "pods", ns, lambda p: ready(p) and container(p).restart_count == 1)
    assert http_get(f"http://{again.status.pod_ip}:8080", "/healthz") == 200


def test_a_crashing_process_ends_in_crash_loop_back_off(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    ctrl_cluster.kubectl("apply", "-f", "-",
                         stdin=pod_manifest(ns, "crash", "rehearsal/crash:1", tmp_path))
    api = ctrl_cluster.api()
    pod = wait_for(api, "pods", ns, lambda p: bool(
        container(p) and container(p).state.waiting
        and container(p).state.waiting.reason == "CrashLoopBackOff"))
    status = container(pod)
    meta = pod.metadata
    assert status.state.waiting.message == (
        f"back-off 2s restarting failed container=web pod=crash_{ns}({meta.uid})")
    assert (status.last_state.terminated.exit_code, status.last_state.terminated.reason) == (3, "Error")
    assert status.restart_count >= 1 and not status.ready
    assert pod.status.phase == "Running"
    event_seen(ctrl_cluster, ns, "crash", "BackOff",
               f"Back-off restarting failed container web in pod crash_{ns}({meta.uid})")


def test_a_crash_with_restart_policy_never_fails_the_pod(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(
        ns, "once", "rehearsal/crash:1", tmp_path, policy="Never"))
    pod = wait_for(ctrl_cluster.api(), "pods", ns, lambda p: p.status.phase == "Failed")
    terminated = container(pod).state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")
    assert container(pod).restart_count == 0


def test_a_missing_secret_blocks_the_container_until_it_exists(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    (tmp_path / "ready").write_text("ok\n")
    env = ("    env:\n"
           "    - {name: WWW, valueFrom: {secretKeyRef: {name: site, key: root}}}\n" + READY_PROBE)
    ctrl_cluster.kubectl("apply", "-f", "-",
                         stdin=pod_manifest(ns, "cfg", "rehearsal/http:1", "$(WWW)", env))
    api = ctrl_cluster.api()
    pod = wait_for(api, "pods", ns, lambda p: bool(
        container(p) and container(p).state.waiting
        and container(p).state.waiting.reason == "CreateContainerConfigError"))
    assert container(pod).state.waiting.message == 'secret "site" not found'
    event_seen(ctrl_cluster, ns, "cfg", "Failed", 'Error: secret "site" not found')
    root = base64.b64encode(str(tmp_path).encode()).decode()
    k8s.CoreV1Api(api).create_namespaced_secret(
        ns, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="site"), data={"root": root}))
    running = wait_for(api, "pods", ns, ready)
    assert http_get(f"http://{running.status.pod_ip}:8080") == 200


def test_deletion_leaves_the_endpoints_before_the_pod_goes(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    """preStop sleep, SIGTERM, then the kubelet removes the pod object: the address left the
    Service's endpoints (resourceVersion order) before the pod object was deleted."""
    hook = "    lifecycle: {preStop: {sleep: {seconds: 1}}}\n"
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(
        ns, "bye", "rehearsal/http:1", tmp_path, hook) + service_manifest(ns, "bye"))
    api = ctrl_cluster.api()
    core = k8s.CoreV1Api(api)
    pod = wait_for(api, "pods", ns, ready)
    wait_for(api, "endpoints", ns, lambda e: bool(e.subsets and e.subsets[0].addresses))
    since = core.list_namespaced_pod(ns).metadata.resource_version
    ctrl_cluster.kubectl("delete", "pod", "-n", ns, "bye", "--timeout=30s")
    pod_events = replay(core.list_namespaced_pod, ns, since)
    endpoint_events = replay(core.list_namespaced_endpoints, ns, since)
    deleted_at = next(int(e["object"].metadata.resource_version) for e in pod_events
                      if e["type"] == "DELETED")
    left_at = next(int(e["object"].metadata.resource_version) for e in endpoint_events
                   if not (e["object"].subsets and e["object"].subsets[0].addresses))
    assert left_at < deleted_at
    terminating = [e["object"] for e in pod_events if e["object"].metadata.deletion_timestamp]
    assert terminating and terminating[0].metadata.deletion_grace_period_seconds == 5
    event_seen(ctrl_cluster, ns, "bye", "Killing", "Stopping container web")
    with pytest.raises(OSError):
        http_get(f"http://{pod.status.pod_ip}:8080")


def replay(lister: Any, ns: str, since: str) -> list[Any]:
    """The watch events after ``since`` that the apiserver still remembers."""
    stream = k8s_watch.Watch()
    events = []
    for event in stream.stream(lister, ns, resource_version=since, timeout_seconds=1):
        events.append(event)
    return events


STATEFUL = """
apiVersion: v1
kind: Service
metadata: {{name: db, namespace: {ns}}}
spec:
  clusterIP: None
  selector: {{app: db}}
  ports: [{{name: web, port: 8080, targetPort: http}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {ns}}}
spec:
  replicas: 2
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: "{image}"
        args: ["--directory", "{www}"]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /ready, port: http}}, periodSeconds: 1}}
"""


def test_statefulset_pods_start_in_order_and_roll_from_the_highest_ordinal(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    (tmp_path / "ready").write_text("ok\n")
    api = ctrl_cluster.api()
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    since = core.list_namespaced_pod(ns).metadata.resource_version
    ctrl_cluster.kubectl("apply", "-f", "-",
                         stdin=STATEFUL.format(ns=ns, image="rehearsal/http:1", www=tmp_path))
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "statefulset/db", "--timeout=60s")
    events = replay(core.list_namespaced_pod, ns, since)
    first_ready = next(int(e["object"].metadata.resource_version) for e in events
                       if e["object"].metadata.name == "db-0" and ready(e["object"]))
    second_added = next(int(e["object"].metadata.resource_version) for e in events
                        if e["object"].metadata.name == "db-1" and e["type"] == "ADDED")
    assert first_ready < second_added
    sts = apps.read_namespaced_stateful_set("db", ns)
    assert (sts.status.replicas, sts.status.ready_replicas, sts.status.updated_replicas) == (2, 2, 2)
    first_revision = sts.status.update_revision
    assert sts.status.current_revision == first_revision
    endpoints = wait_for(api, "endpoints", ns, lambda e: bool(
        e.subsets and e.subsets[0].addresses and len(e.subsets[0].addresses) == 2))
    assert sorted(a.hostname for a in endpoints.subsets[0].addresses) == ["db-0", "db-1"]

    since = core.list_namespaced_pod(ns).metadata.resource_version
    ctrl_cluster.kubectl("apply", "-f", "-",
                         stdin=STATEFUL.format(ns=ns, image="rehearsal/http:2", www=tmp_path))
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "statefulset/db", "--timeout=60s")
    deleted = [e["object"].metadata.name for e in replay(core.list_namespaced_pod, ns, since)
               if e["type"] == "DELETED"]
    assert deleted == ["db-1", "db-0"]
    sts = apps.read_namespaced_stateful_set("db", ns)
    assert sts.status.update_revision != first_revision
    assert sts.status.current_revision == sts.status.update_revision
    pods = core.list_namespaced_pod(ns).items
    assert {p.metadata.labels["controller-revision-hash"] for p in pods} == {
        sts.status.update_revision}
