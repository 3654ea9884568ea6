"""Column: rehearsal. The rehearsal kubelet's pure parts: image mapping and placeholders, the
container environment (Secrets, ConfigMaps, downward API, ``$(VAR)``) with the kubelet's error
messages, the back-off arithmetic, pod phase and conditions, and pod IP allocation."""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal.kube.controllers.backoff import Backoff
from tests.rehearsal.kube.controllers.envvars import (
    ContainerConfigError,
    EnvResolver,
    expand,
    parse_quantity,
)
from tests.rehearsal.kube.controllers.ipam import PodIPAllocator, PodNetworkExhausted
from tests.rehearsal.kube.controllers.kubelet_config import (
    DEFAULT_CONFIG,
    REPO,
    KubeletConfigError,
    load,
    normalize_image,
    render,
)
from tests.rehearsal.kube.controllers.podstatus import ContainerView, PodView, phase, pod_status

Obj = dict[str, Any]


def test_default_mapping_runs_the_app_image_with_uvicorn_on_the_pod_ip() -> None:
    config = load(DEFAULT_CONFIG)
    rule = config.rule_for("mlmon/house-price:1.0.0")
    assert rule is not None
    container = {"name": "api", "ports": [{"name": "http", "containerPort": 8000}]}
    launch = render(rule, container, "127.11.0.7", [])
    assert launch.argv == [sys.executable, "-m", "uvicorn", "house_price.api:app",
                           "--host", "127.11.0.7", "--port", "8000"]
    assert launch.cwd == f"{REPO}/app"
    assert launch.env["MLMON_MODEL_PATH"] == f"{REPO}/app/house_price/artifacts/model.joblib"


def test_default_mapping_pins_the_app_tag() -> None:
    config = load(DEFAULT_CONFIG)
    assert config.rule_for("docker.io/mlmon/house-price:1.0.0") is not None
    assert config.rule_for("mlmon/house-price:9.9.9") is None
    assert config.rule_for("mlmon/house-price") is None


def test_globs_and_normalised_references_match() -> None:
    config = load(DEFAULT_CONFIG)
    assert config.rule_for("docker.io/grafana/grafana:12.1.0") is not None
    assert config.rule_for("grafana/grafana:12.1.0") is not None
    assert normalize_image("nginx") == "docker.io/library/nginx:latest"
    assert normalize_image("docker.io/nginx:1.25") == "docker.io/library/nginx:1.25"
    assert normalize_image("quay.io/prometheus/prometheus:v2.42.0") == (
        "quay.io/prometheus/prometheus:v2.42.0"
    )
    assert normalize_image("localhost:5000/app@sha256:abc") == "localhost:5000/app@sha256:abc"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kubelet.yml"
    path.write_text(text)
    return path


def test_args_placeholder_and_numeric_ports(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, """
images:
  - image: tool:*
    command: ["run", "{args}", "--port", "{port:9090}"]
crashLoopBackOff: {initialSeconds: 1, maxSeconds: 4}
"""))
    rule = config.rule_for("tool:1")
    assert rule is not None
    assert render(rule, {"name": "t"}, "127.11.0.2", ["-a", "b"]).argv == [
        "run", "-a", "b", "--port", "9090"
    ]
    assert (config.crash_backoff.initial, config.crash_backoff.maximum) == (1.0, 4.0)
    assert config.pull_backoff.initial == 10.0


def test_a_port_name_the_container_lacks_is_an_error() -> None:
    rule = load(DEFAULT_CONFIG).rule_for("mlmon/house-price:1.0.0")
    assert rule is not None
    with pytest.raises(KeyError, match='container "api" has no port named "http"'):
        render(rule, {"name": "api", "ports": [{"containerPort": 8000}]}, "127.11.0.2", [])


def test_malformed_configuration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KubeletConfigError, match=r"images\[0\]: 'command'"):
        load(write_config(tmp_path, "images:\n  - image: a\n    command: run\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$(A)-$(B)", "1-$(B)"), ("$$(A)", "$(A)"), ("$$", "$"), ("a$b", "a$b"), ("$(A", "$(A"),
     ("x$", "x$")],
)
def test_variable_references_expand_as_the_kubelet_expands_them(text: str, expected: str) -> None:
    assert expand(text, {"A": "1"}) == expected


def test_quantities() -> None:
    assert parse_quantity("500m") * 1000 == 500
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity("2e3") == 2000


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


OBJECTS: dict[tuple[str, str, str], Obj] = {
    ("secret", "ns", "db"): {"data": {"password": b64("s3cret"), "user": b64("app")}},
    ("configmap", "ns", "settings"): {"data": {"level": "debug", "bad key": "x"}},
}


async def fetch(kind: str, namespace: str, name: str) -> Obj | None:
    return OBJECTS.get((kind, namespace, name))


def pod() -> Obj:
    return {
        "metadata": {"name": "web-1", "namespace": "ns", "uid": "u-1", "labels": {"app": "web"}},
        "spec": {"nodeName": "node", "serviceAccountName": "default"},
        "status": {"podIP": "127.11.0.9", "hostIP": "127.0.1.1"},
    }


def resolve(container: Obj) -> dict[str, str]:
    return asyncio.run(EnvResolver(fetch, {"cpu": "2", "memory": "1Gi"}).resolve(pod(), container))


def test_environment_resolves_like_the_kubelet() -> None:
    env = resolve({
        "name": "c",
        "resources": {"limits": {"memory": "256Mi"}},
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "env": [
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                               "divisor": "1Mi"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "URL", "value": "http://$(IP):8000/$(POD)"},
            {"name": "MISSING", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k",
                                                               "optional": True}}},
        ],
    })
    assert env == {
        "CFG_level": "debug", "PASSWORD": "s3cret", "POD": "web-1", "NS": "ns",
        "IP": "127.11.0.9", "APP": "web", "MEM": "256", "CPU": "2",
        "URL": "http://127.11.0.9:8000/web-1",
    }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"secretKeyRef": {"name": "nope", "key": "k"}}, 'secret "nope" not found'),
        ({"secretKeyRef": {"name": "db", "key": "token"}}, "couldn't find key token in Secret ns/db"),
        ({"configMapKeyRef": {"name": "nope", "key": "k"}}, 'configmap "nope" not found'),
        ({"configMapKeyRef": {"name": "settings", "key": "k"}},
         "couldn't find key k in ConfigMap ns/settings"),
    ],
)
def test_missing_references_are_create_container_config_errors(source: Obj, message: str) -> None:
    with pytest.raises(ContainerConfigError) as err:
        resolve({"name": "c", "env": [{"name": "X", "valueFrom": source}]})
    assert str(err.value) == message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_crash_loop_back_off_doubles_up_to_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    backoff = Backoff(10, 40)
    monkeypatch.setattr(backoff, "clock", clock)
    assert not backoff.in_backoff_since("c", clock.now)
    backoff.next("c", clock.now)
    delays = []
    for _ in range(4):
        clock.now += 1
        finished = clock.now
        assert backoff.in_backoff_since("c", finished)
        delays.append(backoff.delay("c"))
        clock.now = backoff.ready_at("c", finished)
        assert not backoff.in_backoff_since("c", finished)
        backoff.next("c", finished)
    assert delays == [10, 20, 40, 40]
    clock.now += 81
    assert not backoff.in_backoff_since("c", clock.now)
    backoff.next("c", clock.now)
    assert backoff.delay("c") == 10


def test_pull_back_off_counts_from_the_last_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    backoff = Backoff(10, 300)
    monkeypatch.setattr(backoff, "clock", clock)
    backoff.next("img", clock.now)
    clock.now += 9
    assert backoff.in_backoff_since_update("img")
    clock.now += 1
    assert not backoff.in_backoff_since_update("img")


def view(*main: ContainerView, policy: str = "Always", init: tuple[ContainerView, ...] = (),
         terminal: bool = False) -> PodView:
    meta = {"name": "p", "namespace": "ns", "uid": "u"}
    spec = {"restartPolicy": policy, "containers": [{"name": c.name} for c in main]}
    return PodView({"metadata": meta, "spec": spec, "status": {"qosClass": "BestEffort"}},
                   list(init), list(main), "127.0.1.1", "127.11.0.2", 0.0, terminal)


RUNNING = {"running": {"startedAt": "2024-01-01T00:00:00Z"}}
FAILED = {"terminated": {"exitCode": 3, "reason": "Error"}}
DONE = {"terminated": {"exitCode": 0, "reason": "Completed"}}
BACKING_OFF = {"waiting": {"reason": "CrashLoopBackOff"}}


@pytest.mark.parametrize(
    ("pod_view", "expected"),
    [
        (view(ContainerView("a", "i")), "Pending"),
        (view(ContainerView("a", "i", RUNNING)), "Running"),
        (view(ContainerView("a", "i", BACKING_OFF, {"terminated": FAILED["terminated"]})), "Running"),
        (view(ContainerView("a", "i", FAILED), policy="Never"), "Failed"),
        (view(ContainerView("a", "i", DONE), policy="OnFailure"), "Succeeded"),
        (view(ContainerView("a", "i", FAILED), policy="OnFailure"), "Running"),
        (view(ContainerView("a", "i", DONE), terminal=True), "Succeeded"),
        (view(ContainerView("a", "i", RUNNING), init=(ContainerView("i", "i", RUNNING),)),
         "Pending"),
    ],
)
def test_pod_phase(pod_view: PodView, expected: str) -> None:
    assert phase(pod_view) == expected


def test_ready_conditions_name_the_unready_containers() -> None:
    status = pod_status(view(ContainerView("a", "i", RUNNING, ready=True),
                             ContainerView("b", "i", RUNNING)), 0.0)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "ContainersNotReady"
    assert conditions["Ready"]["message"] == "containers with unready status: [b]"
    assert conditions["Initialized"]["status"] == "True"
    assert status["qosClass"] == "BestEffort"
    assert status["podIPs"] == [{"ip": "127.11.0.2"}]


def test_transition_times_are_kept_while_the_status_holds() -> None:
    first = pod_status(view(ContainerView("a", "i", RUNNING, ready=True)), 0.0)
    again = view(ContainerView("a", "i", RUNNING, ready=True))
    again.pod["status"] = first
    later = pod_status(again, 500.0)
    assert first["conditions"] == later["conditions"]


def test_pod_ips_go_round_the_network_and_skip_reserved_addresses() -> None:
    ips = PodIPAllocator("127.11.0.0/29")
    got = [ips.allocate() for _ in range(5)]
    assert got == [f"127.11.0.{i}" for i in range(2, 7)]
    with pytest.raises(PodNetworkExhausted):
        ips.allocate()
    ips.release("127.11.0.3")
    assert ips.allocate() == "127.11.0.3"
