"""Column: rehearsal. A rehearsal cluster (``tests.rehearsal.fixtures.start_cluster``) with a test
image mapping and the helpers the controller contract tests use, and the cluster's own
lifecycle: stopping it leaves no pod process and no forwarder behind."""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from tests.rehearsal.fixtures import RehearsalCluster, start_cluster

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl") or "/tmp/cdk/x/layer/kubectl/kubectl"

TEST_IMAGES = {
    "images": [
        {"image": "rehearsal/http:1",
         "command": ["{python}", "-m", "http.server", "--bind", "{pod_ip}", "{args}", "{port:http}"]},
        {"image": "rehearsal/http:2",
         "command": ["{python}", "-m", "http.server", "--bind", "{pod_ip}", "{args}", "{port:http}"]},
        {"image": "rehearsal/crash:1",
         "command": ["{python}", "-c", "import sys; print('crashing', flush=True); sys.exit(3)"]},
        # Prints its args on stdout, one a line, a count on stderr, then waits to be stopped.
        {"image": "rehearsal/say:1",
         "command": ["{python}", "-c", "import sys, time\nfor word in sys.argv[1:]: print(word, flush=True)\n"
                     "print('said', len(sys.argv) - 1, file=sys.stderr, flush=True)\ntime.sleep(3600)", "{args}"]},
        # Prints "line <i>" for i below its first arg, a tenth of a second apart, then exits.
        {"image": "rehearsal/count:1",
         "command": ["{python}", "-c", "import sys, time\nfor i in range(int(sys.argv[1])):\n"
                     "    print('line', i, flush=True)\n    time.sleep(0.1)", "{args}"]},
    ],
    "crashLoopBackOff": {"initialSeconds": 2, "maxSeconds": 8},
    "imagePullBackOff": {"initialSeconds": 2, "maxSeconds": 8},
    "syncFrequencySeconds": 1,
    "shutdownGracePeriodSeconds": 2,
}


@dataclass
class CtrlCluster:
    """A rehearsal cluster with the test image mapping, and the clients the tests drive it with."""

    cluster: RehearsalCluster

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    @property
    def context(self) -> str:
        return self.cluster.context

    @property
    def node_ip(self) -> str:
        return str(self.cluster.info["node_ip"])

    @property
    def pod_network(self) -> str:
        return str(self.cluster.info["pod_network"])

    def env(self) -> dict[str, str]:
        return self.cluster.env()

    def kubectl(self, *args: str, check: bool = True, timeout: float = 60,
                stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([KUBECTL, *args], env=self.env(), input=stdin, text=True,
                                capture_output=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def api(self) -> k8s.ApiClient:
        return k8s_config.new_client_from_config(str(self.kubeconfig), context=self.context)

    def node_port_url(self, node_port: int) -> str:
        return f"http://{self.node_ip}:{node_port + int(self.cluster.info['nodeport_offset'])}"


@contextmanager
def ctrl_cluster_running(state_dir: Path) -> Iterator[CtrlCluster]:
    state_dir.mkdir(parents=True, exist_ok=True)
    kubelet = state_dir / "kubelet.yml"
    kubelet.write_text(yaml.safe_dump(TEST_IMAGES))
    with start_cluster(state_dir, "--kubelet-config", str(kubelet)) as cluster:
        yield CtrlCluster(cluster)


@contextmanager
def namespace_in(cluster: CtrlCluster) -> Iterator[str]:
    """A fresh namespace, deleted (with its pods) afterwards."""
    name = f"t-{secrets.token_hex(4)}"
    core = k8s.CoreV1Api(cluster.api())
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)


def wait_for(api: k8s.ApiClient, kind: str, namespace: str, predicate: Callable[[Any], bool],
             timeout: int = 60, **selectors: str) -> Any:
    """Watch ``kind`` until an object satisfies ``predicate``; the object. Bounded by ``timeout``."""
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    lister = {
        "pods": core.list_namespaced_pod,
        "endpoints": core.list_namespaced_endpoints,
        "deployments": apps.list_namespaced_deployment,
        "replicasets": apps.list_namespaced_replica_set,
        "statefulsets": apps.list_namespaced_stateful_set,
        "events": core.list_namespaced_event,
    }[kind]
    listed = lister(namespace, **selectors)
    for item in listed.items:
        if predicate(item):
            return item
    deadline = time.monotonic() + timeout
    stream = k8s_watch.Watch()
    while time.monotonic() < deadline:
        remaining = max(int(deadline - time.monotonic()), 1)
        for event in stream.stream(lister, namespace, resource_version=listed.metadata.resource_version,
                                   timeout_seconds=remaining, **selectors):
            if predicate(event["object"]):
                stream.stop()
                return event["object"]
    raise AssertionError(f"no {kind} in {namespace} satisfied the condition within {timeout}s")


def pod_processes(pod_network: str) -> list[int]:
    """Pids of live processes that were given an address of the pod network on their command
    line (every test image binds its pod IP)."""
    prefix = pod_network.split(".0.0/")[0] + "."
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and f" {prefix}" in cmdline and "http.server" in cmdline:
            found.append(int(entry.name))
    return found


def http_get(url: str, path: str = "/ready") -> int:
    """One GET on a fresh connection; the status. Raises OSError when refused or reset."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        return conn.getresponse().status
    finally:
        conn.close()


def answered(url: str, path: str = "/ready", attempts: int = 50) -> int:
    """The first answer within ``attempts`` tries, for a Service whose forwarders are still being
    told about a new endpoint (kube-proxy follows EndpointSlices by watch)."""
    for _ in range(attempts - 1):
        try:
            return http_get(url, path)
        except OSError:
            time.sleep(0.1)
    return http_get(url, path)


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "rehearsal/http:1", ports: [{name: http, containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""


def test_stopping_the_cluster_stops_every_pod_process(tmp_path: Path) -> None:
    with ctrl_cluster_running(tmp_path / "state") as cluster:
        cluster.kubectl("apply", "-f", "-", stdin=WEB)
        cluster.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
        svc = json.loads(cluster.kubectl("get", "service", "web", "-o", "json").stdout)
        node_port = cluster.node_port_url(svc["spec"]["ports"][0]["nodePort"])
        pods = json.loads(cluster.kubectl("get", "pods", "-o", "json").stdout)["items"]
        ips = sorted(p["status"]["podIP"] for p in pods)
        pids = pod_processes(cluster.pod_network)
        assert len(ips) == 2 and len(pids) == 2
        assert listening(node_port)
    assert pod_processes(cluster.pod_network) == []
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not any(listening(f"http://{ip}:8080") for ip in ips)
    assert not listening(node_port)
