"""Column: rehearsal. Deployments on the rehearsal cluster through real clients (kubectl 1.32,
the python kubernetes client, ansible kubernetes.core): availability, a rolling update that
drops no request, an image that cannot be pulled, ``rollout undo``/``k8s_rollback``, ``rollout
restart`` and Recreate. Pods are real processes (``python -m http.server``)."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from urllib3.exceptions import ProtocolError

from tests.rehearsal.test_ctrl_cluster import (
    REPO,
    CtrlCluster,
    answered,
    ctrl_cluster_running,
    http_get,
    namespace_in,
    wait_for,
)

REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture(scope="module")
def ctrl_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CtrlCluster]:
    with ctrl_cluster_running(tmp_path_factory.mktemp("deployments")) as cluster:
        yield cluster


@pytest.fixture
def ns(ctrl_cluster: CtrlCluster) -> Iterator[str]:
    with namespace_in(ctrl_cluster) as name:
        yield name


def web(ns: str, www: Path, image: str = "rehearsal/http:1", replicas: int = 2,
        deadline: int = 600, strategy: str = "RollingUpdate", history: int = 10,
        pre_stop: int = 1) -> str:
    rolling = (', rollingUpdate: {maxSurge: 1, maxUnavailable: 0}'
               if strategy == "RollingUpdate" else "")
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: {replicas}
  progressDeadlineSeconds: {deadline}
  revisionHistoryLimit: {history}
  selector: {{matchLabels: {{app: web}}}}
  strategy: {{type: {strategy}{rolling}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: "{image}"
        args: ["--directory", "{www}"]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /ready, port: http}}, periodSeconds: 1}}
        lifecycle: {{preStop: {{sleep: {{seconds: {pre_stop}}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{name: web, port: 80, targetPort: http}}]
"""


def serve_dir(tmp_path: Path) -> Path:
    www = tmp_path / "www"
    www.mkdir()
    (www / "ready").write_text("ok\n")
    return www


def node_port_url(cluster: CtrlCluster, ns: str) -> str:
    svc = k8s.CoreV1Api(cluster.api()).read_namespaced_service("web", ns)
    return cluster.node_port_url(svc.spec.ports[0].node_port)


def deploy(cluster: CtrlCluster, ns: str, manifest: str) -> None:
    cluster.kubectl("apply", "-f", "-", stdin=manifest)
    cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")


def set_image(cluster: CtrlCluster, ns: str, image: str) -> None:
    cluster.kubectl("set", "image", "-n", ns, "deployment/web", f"web={image}")


def replica_sets(cluster: CtrlCluster, ns: str) -> dict[str, Any]:
    items = k8s.AppsV1Api(cluster.api()).list_namespaced_replica_set(ns).items
    return {rs.metadata.name: rs for rs in items}


def test_a_deployment_becomes_available_and_serves(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path)))
    api = ctrl_cluster.api()
    d = k8s.AppsV1Api(api).read_namespaced_deployment("web", ns)
    assert (d.status.replicas, d.status.updated_replicas, d.status.ready_replicas,
            d.status.available_replicas) == (2, 2, 2, 2)
    assert d.status.unavailable_replicas is None
    assert d.status.observed_generation == d.metadata.generation
    conditions = {c.type: c for c in d.status.conditions}
    assert (conditions["Available"].status, conditions["Available"].reason) == (
        "True", "MinimumReplicasAvailable")
    (rs,) = replica_sets(ctrl_cluster, ns).values()
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.metadata.annotations[REVISION] == "1"
    assert rs.metadata.owner_references[0].kind == "Deployment"
    assert conditions["Progressing"].reason == "NewReplicaSetAvailable"
    assert conditions["Progressing"].message == f'ReplicaSet "{rs.metadata.name}" has successfully progressed.'
    pods = k8s.CoreV1Api(api).list_namespaced_pod(ns).items
    network = ipaddress.ip_network(ctrl_cluster.pod_network)
    for pod in pods:
        assert pod.metadata.name.startswith(f"{rs.metadata.name}-")
        assert ipaddress.ip_address(pod.status.pod_ip) in network
        assert pod.status.host_ip == ctrl_cluster.node_ip
        assert pod.spec.node_name.endswith("-control-plane")
        assert http_get(f"http://{pod.status.pod_ip}:8080") == 200
    endpoints = k8s.CoreV1Api(api).read_namespaced_endpoints("web", ns)
    (subset,) = endpoints.subsets
    assert sorted(a.ip for a in subset.addresses) == sorted(p.status.pod_ip for p in pods)
    assert {a.target_ref.name for a in subset.addresses} == {p.metadata.name for p in pods}
    assert [(p.name, p.port) for p in subset.ports] == [("web", 8080)]
    assert answered(node_port_url(ctrl_cluster, ns)) == 200
    ctrl_cluster.kubectl("wait", "-n", ns, "--for=condition=Available", "deployment/web",
                         "--timeout=30s")
    ctrl_cluster.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod", "-l", "app=web",
                         "--timeout=30s")


class Hammer:
    """Requests the Service's NodePort on fresh connections until stopped; counts outcomes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = http_get(self.url)
            except OSError as err:
                self.failed.append(repr(err))
                continue
            if status == 200:
                self.ok += 1
            else:
                self.failed.append(str(status))

    @contextmanager
    def running(self) -> Iterator[Hammer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=30)


class ReadyCount:
    """Watches the namespace's pods; the fewest Ready, not-terminating pods seen at any time."""

    def __init__(self, api: k8s.ApiClient, ns: str) -> None:
        self.core = k8s.CoreV1Api(api)
        self.ns = ns
        self.lowest: int | None = None
        self.events = 0
        self._watch = k8s_watch.Watch()
        self._stopping = False
        listed = self.core.list_namespaced_pod(ns)
        self._rv = listed.metadata.resource_version
        self._ready = {p.metadata.name for p in listed.items if self.serving(p)}
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def serving(pod: Any) -> bool:
        ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        return ready and pod.metadata.deletion_timestamp is None

    def _run(self) -> None:
        try:
            self._count()
        except ProtocolError:
            if not self._stopping:
                raise

    def _count(self) -> None:
        for event in self._watch.stream(self.core.list_namespaced_pod, self.ns,
                                        resource_version=self._rv, timeout_seconds=120):
            pod = event["object"]
            self.events += 1
            if event["type"] != "DELETED" and self.serving(pod):
                self._ready.add(pod.metadata.name)
            else:
                self._ready.discard(pod.metadata.name)
            seen = len(self._ready)
            self.lowest = seen if self.lowest is None else min(self.lowest, seen)

    @contextmanager
    def watching(self) -> Iterator[ReadyCount]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stopping = True
            self._watch.stop()
            self._thread.join(timeout=30)


def wait_until_gone(cluster: CtrlCluster, ns: str, image: str) -> None:
    """Until no pod of ``image`` is left (terminating pods included)."""
    core = k8s.CoreV1Api(cluster.api())

    def none_left(_pod: Any) -> bool:
        return all(p.spec.containers[0].image != image
                   for p in core.list_namespaced_pod(ns).items)

    if not none_left(None):
        wait_for(cluster.api(), "pods", ns, none_left)


def test_rolling_update_with_max_unavailable_0_drops_no_request(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    """maxSurge 1, maxUnavailable 0, readiness probe and a preStop sleep (the time the endpoints
    controller and kube-proxy take to drop a terminating pod): every request made through the
    NodePort during the rollout succeeds, and fewer than 2 pods never serve."""
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), pre_stop=2))
    url = node_port_url(ctrl_cluster, ns)
    ready = ReadyCount(ctrl_cluster.api(), ns)
    with Hammer(url).running() as hammer, ready.watching():
        set_image(ctrl_cluster, ns, "rehearsal/http:2")
        ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
        wait_until_gone(ctrl_cluster, ns, "rehearsal/http:1")
    assert hammer.failed == []
    assert hammer.ok > 20
    assert ready.events > 0
    assert ready.lowest == 2
    pods = k8s.CoreV1Api(ctrl_cluster.api()).list_namespaced_pod(ns).items
    assert {p.spec.containers[0].image for p in pods} == {"rehearsal/http:2"}
    revisions = {rs.metadata.annotations[REVISION]: rs.spec.replicas
                 for rs in replica_sets(ctrl_cluster, ns).values()}
    assert revisions == {"1": 0, "2": 2}


def waiting_reason(pod: Any) -> str:
    statuses = pod.status.container_statuses or []
    return statuses[0].state.waiting.reason if statuses and statuses[0].state.waiting else ""


def progressing_reason(d: Any) -> str:
    return next((c.reason for c in d.status.conditions or [] if c.type == "Progressing"), "")


def test_an_unmapped_image_stalls_the_rollout_and_undo_recovers(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), replicas=1, deadline=4))
    api = ctrl_cluster.api()
    good = next(iter(replica_sets(ctrl_cluster, ns)))
    set_image(ctrl_cluster, ns, "rehearsal/http:404")
    pulled = wait_for(api, "pods", ns, lambda p: waiting_reason(p) == "ErrImagePull")
    assert "failed to pull and unpack image" in pulled.status.container_statuses[0].state.waiting.message
    backing_off = wait_for(api, "pods", ns, lambda p: waiting_reason(p) == "ImagePullBackOff")
    assert backing_off.status.container_statuses[0].state.waiting.message == (
        'Back-off pulling image "rehearsal/http:404"')
    assert backing_off.status.phase == "Pending"
    for reason, message in (("BackOff", 'Back-off pulling image "rehearsal/http:404"'),
                            ("Failed", "Error: ErrImagePull")):
        wait_for(api, "events", ns, lambda e, r=reason, m=message: (e.reason, e.message) == (r, m),
                 field_selector=f"involvedObject.name={backing_off.metadata.name}")
    assert answered(node_port_url(ctrl_cluster, ns)) == 200
    stalled = ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web",
                                   "--timeout=2s", check=False)
    assert stalled.returncode != 0
    assert "timed out waiting for the condition" in stalled.stderr
    wait_for(api, "deployments", ns, lambda d: progressing_reason(d) == "ProgressDeadlineExceeded")
    exceeded = ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", check=False)
    assert exceeded.returncode != 0
    assert 'deployment "web" exceeded its progress deadline' in exceeded.stderr
    assert answered(node_port_url(ctrl_cluster, ns)) == 200
    ctrl_cluster.kubectl("rollout", "undo", "-n", ns, "deployment/web")
    # As in the real deployment controller, Progressing keeps ProgressDeadlineExceeded until a sync sees
    # progress (DeploymentProgressing compares replica counts), and the first sync after the undo may
    # only record observedGeneration: `rollout status` run at that moment still reports the deadline.
    # Wait for the condition the controller sets once the restored ReplicaSet is available.
    wait_for(api, "deployments", ns, lambda d: progressing_reason(d) == "NewReplicaSetAvailable")
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    restored = replica_sets(ctrl_cluster, ns)[good]
    assert restored.spec.replicas == 1
    assert restored.metadata.annotations[REVISION] == "3"
    assert restored.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    d = k8s.AppsV1Api(api).read_namespaced_deployment("web", ns)
    assert progressing_reason(d) == "NewReplicaSetAvailable"
    assert d.metadata.annotations[REVISION] == "3"


ROLLBACK_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Roll the deployment back
      kubernetes.core.k8s_rollback:
        api_version: apps/v1
        kind: Deployment
        name: web
        namespace: "{ns}"
      register: rollback
    - name: Wait for the rollback to complete
      kubernetes.core.k8s_info:
        api_version: apps/v1
        kind: Deployment
        name: web
        namespace: "{ns}"
        wait: true
        wait_timeout: 60
      register: info
    - name: Show the outcome
      ansible.builtin.debug:
        msg: "{{{{ {{'changed': rollback.changed, 'image':
          info.resources[0].spec.template.spec.containers[0].image}} | to_json }}}}"
"""


def test_kubernetes_core_k8s_rollback_returns_to_the_previous_revision(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), replicas=1))
    set_image(ctrl_cluster, ns, "rehearsal/http:404")
    wait_for(ctrl_cluster.api(), "pods", ns, lambda p: waiting_reason(p) == "ImagePullBackOff")
    playbook = tmp_path / "rollback.yml"
    playbook.write_text(ROLLBACK_PLAY.format(ns=ns))
    env = {**ctrl_cluster.env(), "K8S_AUTH_KUBECONFIG": str(ctrl_cluster.kubeconfig),
           "K8S_AUTH_CONTEXT": ctrl_cluster.context, "ANSIBLE_STDOUT_CALLBACK": "json",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(playbook)],
                         env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    tasks = json.loads(run.stdout)["plays"][0]["tasks"]
    outcome = json.loads(tasks[2]["hosts"]["localhost"]["msg"])
    assert outcome == {"changed": True, "image": "rehearsal/http:1"}
    pods = k8s.CoreV1Api(ctrl_cluster.api()).list_namespaced_pod(ns).items
    assert {p.spec.containers[0].image for p in pods} == {"rehearsal/http:1"}


def test_rollout_restart_creates_a_new_replica_set_and_history_is_trimmed(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), replicas=1, history=1))
    (first,) = replica_sets(ctrl_cluster, ns)
    ctrl_cluster.kubectl("rollout", "restart", "-n", ns, "deployment/web")
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    after = replica_sets(ctrl_cluster, ns)
    (restarted,) = set(after) - {first}
    annotations = after[restarted].spec.template.metadata.annotations
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert after[restarted].metadata.annotations[REVISION] == "2"
    assert after[first].spec.replicas == 0
    set_image(ctrl_cluster, ns, "rehearsal/http:2")
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    wait_for(ctrl_cluster.api(), "replicasets", ns,
             lambda _rs: first not in replica_sets(ctrl_cluster, ns))
    revisions = sorted(rs.metadata.annotations[REVISION]
                       for rs in replica_sets(ctrl_cluster, ns).values())
    assert revisions == ["2", "3"]


def test_a_paused_deployment_rolls_out_only_when_resumed(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), replicas=1))
    api = ctrl_cluster.api()
    ctrl_cluster.kubectl("rollout", "pause", "-n", ns, "deployment/web")
    set_image(ctrl_cluster, ns, "rehearsal/http:2")
    paused = wait_for(api, "deployments", ns, lambda d: progressing_reason(d) == "DeploymentPaused")
    cond = next(c for c in paused.status.conditions if c.type == "Progressing")
    assert (cond.status, cond.message) == ("Unknown", "Deployment is paused")
    wait_for(api, "deployments", ns,
             lambda d: d.status.observed_generation == d.metadata.generation)
    assert len(replica_sets(ctrl_cluster, ns)) == 1
    ctrl_cluster.kubectl("scale", "-n", ns, "deployment/web", "--replicas=2")
    wait_for(api, "deployments", ns, lambda d: (d.status.ready_replicas or 0) == 2)
    assert len(replica_sets(ctrl_cluster, ns)) == 1
    ctrl_cluster.kubectl("rollout", "resume", "-n", ns, "deployment/web")
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    sizes = sorted((rs.spec.template.spec.containers[0].image, rs.spec.replicas)
                   for rs in replica_sets(ctrl_cluster, ns).values())
    assert sizes == [("rehearsal/http:1", 0), ("rehearsal/http:2", 2)]


CHART = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: "{{{{ .Values.image }}}}"
        args: ["--directory", "{www}"]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /ready, port: http}}, periodSeconds: 1}}
"""


def test_helm_wait_sees_the_deployment_ready(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: rehearsal/http:1\n")
    (chart / "templates" / "deployment.yaml").write_text(CHART.format(www=serve_dir(tmp_path)))
    helm = shutil.which("helm") or "/tmp/cdk/x/layer/helm/helm"
    run = subprocess.run([helm, "upgrade", "--install", "web", str(chart), "-n", ns, "--wait",
                          "--timeout", "60s"], env=ctrl_cluster.env(), capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    d = k8s.AppsV1Api(ctrl_cluster.api()).read_namespaced_deployment("web", ns)
    assert d.status.ready_replicas == 2
    broken = subprocess.run([helm, "upgrade", "web", str(chart), "-n", ns, "--wait", "--timeout",
                             "3s", "--set", "image=rehearsal/http:404"], env=ctrl_cluster.env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert broken.returncode != 0
    assert "context deadline exceeded" in broken.stderr


def test_recreate_stops_old_pods_before_starting_new_ones(
    ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path
) -> None:
    deploy(ctrl_cluster, ns, web(ns, serve_dir(tmp_path), strategy="Recreate"))
    core = k8s.CoreV1Api(ctrl_cluster.api())
    listed = core.list_namespaced_pod(ns)
    old = {p.metadata.name for p in listed.items}
    alive = set(old)
    overlap: list[str] = []
    new_ready: set[str] = set()
    stream = k8s_watch.Watch()
    set_image(ctrl_cluster, ns, "rehearsal/http:2")
    for event in stream.stream(core.list_namespaced_pod, ns,
                               resource_version=listed.metadata.resource_version,
                               timeout_seconds=60):
        pod = event["object"]
        name = pod.metadata.name
        if name in old:
            if event["type"] == "DELETED":
                alive.discard(name)
            continue
        if event["type"] == "ADDED" and alive:
            overlap.append(name)
        if ReadyCount.serving(pod):
            new_ready.add(name)
        if len(new_ready) >= 2 and not alive:
            stream.stop()
    assert overlap == []
    assert not alive
    ctrl_cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
