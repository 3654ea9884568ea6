"""Column: rehearsal. ``pods/<name>/log`` on the rehearsal node through real clients: ``kubectl logs``
(with ``--tail``, ``--timestamps``, ``--limit-bytes``, ``--previous`` and ``-f``) and ansible's
``kubernetes.core.k8s_log`` read what the container's process printed; the python client sees the
400s the apiserver and the kubelet answer, the 422 of invalid options, and the empty answer for a
pod no node has taken."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.rehearsal.test_ctrl_cluster import CtrlCluster, ctrl_cluster_running, namespace_in, wait_for

WORDS = ["hello-from-the-rehearsal", "second-line"]
STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (.*)$")


@pytest.fixture(scope="module")
def ctrl_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CtrlCluster]:
    with ctrl_cluster_running(tmp_path_factory.mktemp("logs")) as cluster:
        yield cluster


@pytest.fixture
def ns(ctrl_cluster: CtrlCluster) -> Iterator[str]:
    with namespace_in(ctrl_cluster) as name:
        yield name


def pod_manifest(ns: str, name: str, containers: list[dict[str, Any]], **spec: Any) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
        "spec": {"terminationGracePeriodSeconds": 2, "containers": containers, **spec},
    })


def say(name: str = "say", words: list[str] = WORDS) -> dict[str, Any]:
    return {"name": name, "image": "rehearsal/say:1", "args": words}


def state_of(pod: Any) -> Any:
    statuses = pod.status.container_statuses or []
    return statuses[0].state if statuses else None


def running(pod: Any) -> bool:
    state = state_of(pod)
    return bool(state and state.running)


def logs_showing(cluster: CtrlCluster, ns: str, pod: str, text: str, *args: str) -> str:
    """``kubectl logs`` once the process has printed ``text`` (a process's first lines reach the log
    shortly after it starts); bounded."""
    for _ in range(100):
        out = cluster.kubectl("logs", "-n", ns, pod, *args).stdout
        if text in out:
            return out
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the log of {pod}: {out!r}")


def test_kubectl_logs_reads_what_the_process_printed(ctrl_cluster: CtrlCluster, ns: str) -> None:
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "say", [say()]))
    wait_for(ctrl_cluster.api(), "pods", ns, running)
    out = logs_showing(ctrl_cluster, ns, "say", "said 2")
    assert sorted(out.splitlines()) == sorted([*WORDS, "said 2"])
    assert out.splitlines()[:2] == WORDS or out.splitlines()[1:] == WORDS
    assert len(ctrl_cluster.kubectl("logs", "-n", ns, "say", "--tail=1").stdout.splitlines()) == 1
    stamped = [STAMPED.match(line) for line in
               ctrl_cluster.kubectl("logs", "-n", ns, "say", "--timestamps").stdout.splitlines()]
    assert sorted(m.group(1) for m in stamped if m) == sorted([*WORDS, "said 2"]) and all(stamped)
    assert ctrl_cluster.kubectl("logs", "-n", ns, "say", "--limit-bytes=5").stdout in ("hello", "said ")
    assert ctrl_cluster.kubectl("logs", "-n", ns, "say", "--since=1h").stdout == out
    assert ctrl_cluster.kubectl("logs", "-n", ns, "say", "--since-time=2999-01-01T00:00:00Z").stdout == ""


def test_previous_is_the_instance_that_crashed(ctrl_cluster: CtrlCluster, ns: str) -> None:
    crash = {"name": "crash", "image": "rehearsal/crash:1"}
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "crash", [crash]))
    wait_for(ctrl_cluster.api(), "pods", ns,
             lambda p: bool(p.status.container_statuses and p.status.container_statuses[0].last_state.terminated))
    assert ctrl_cluster.kubectl("logs", "-n", ns, "crash", "--previous").stdout == "crashing\n"
    assert ctrl_cluster.kubectl("logs", "-n", ns, "crash").stdout == "crashing\n"


def test_follow_streams_until_the_container_exits(ctrl_cluster: CtrlCluster, ns: str) -> None:
    count = {"name": "count", "image": "rehearsal/count:1", "args": ["30"]}
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "count", [count], restartPolicy="Never"))
    wait_for(ctrl_cluster.api(), "pods", ns, running)
    followed = ctrl_cluster.kubectl("logs", "-n", ns, "count", "-f", timeout=60)
    assert followed.stdout.splitlines() == [f"line {i}" for i in range(30)]
    pod = k8s.CoreV1Api(ctrl_cluster.api()).read_namespaced_pod("count", ns)
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0


def api_error(call: Any) -> tuple[int, str]:
    with pytest.raises(ApiException) as raised:
        call()
    return raised.value.status, json.loads(raised.value.body)["message"]


def test_the_apiserver_and_the_kubelet_refuse_what_they_cannot_serve(ctrl_cluster: CtrlCluster, ns: str) -> None:
    core = k8s.CoreV1Api(ctrl_cluster.api())
    two = [say("a"), say("b")]
    pulling = [{"name": "c", "image": "rehearsal/none:1"}]
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "two", two) + "---\n"
                         + pod_manifest(ns, "pulling", pulling) + "---\n"
                         + pod_manifest(ns, "unscheduled", [say()], schedulerName="nobody"))
    assert api_error(lambda: core.read_namespaced_pod_log("two", ns)) == (
        400, "a container name must be specified for pod two, choose one of: [a b]")
    assert api_error(lambda: core.read_namespaced_pod_log("two", ns, container="c")) == (
        400, "container c is not valid for pod two")
    status, message = api_error(lambda: core.read_namespaced_pod_log("two", ns, container="a", tail_lines=-1))
    assert (status, message) == (
        422, 'PodLogOptions "two" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0')
    wait_for(ctrl_cluster.api(), "pods", ns,
             lambda p: bool(state_of(p) and state_of(p).waiting
                            and state_of(p).waiting.reason in ("ErrImagePull", "ImagePullBackOff")),
             field_selector="metadata.name=pulling")
    status, message = api_error(lambda: core.read_namespaced_pod_log("pulling", ns))
    assert status == 400
    assert re.fullmatch(r'container "c" in pod "pulling" is waiting to start: '
                        r"(image can't be pulled|trying and failing to pull image)", message)
    assert api_error(lambda: core.read_namespaced_pod_log("pulling", ns, previous=True)) == (
        400, 'previous terminated container "c" in pod "pulling" not found')
    assert core.read_namespaced_pod_log("unscheduled", ns) == ""


def test_ansible_k8s_log_reads_the_log(ctrl_cluster: CtrlCluster, ns: str, tmp_path: Path) -> None:
    playbook_bin = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    if not Path(playbook_bin).exists():
        pytest.skip("ansible-playbook is not installed")
    ctrl_cluster.kubectl("apply", "-f", "-", stdin=pod_manifest(ns, "say", [say()]))
    wait_for(ctrl_cluster.api(), "pods", ns, running)
    logs_showing(ctrl_cluster, ns, "say", "said 2")
    result = tmp_path / "log.json"
    playbook = tmp_path / "log.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "Read the log", "kubernetes.core.k8s_log": {"namespace": ns, "name": "say"},
             "register": "full"},
            {"name": "Read its last line", "kubernetes.core.k8s_log": {
                "namespace": ns, "name": "say", "container": "say", "tail_lines": 1, "since_seconds": "3600"},
             "register": "last"},
            {"name": "Keep what was read", "ansible.builtin.copy": {
                "content": "{{ {'full': full.log_lines, 'last': last.log_lines} | to_json }}", "dest": str(result)}},
        ],
    }]))
    done = subprocess.run(
        [playbook_bin, "-i", "localhost,", "-c", "local", str(playbook)],
        env={**ctrl_cluster.env(), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false",
             "ANSIBLE_PYTHON_INTERPRETER": sys.executable},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    read = {key: [line for line in lines if line] for key, lines in json.loads(result.read_text()).items()}
    assert sorted(read["full"]) == sorted([*WORDS, "said 2"])
    assert len(read["last"]) == 1 and read["last"][0] in read["full"]
