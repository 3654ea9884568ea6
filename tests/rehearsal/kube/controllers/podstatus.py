"""A pod's status as the kubelet reports it (generateAPIPodStatus / getPhase), computed from the
state of its containers (pure).

Conditions are PodReadyToStartContainers, Initialized, Ready, ContainersReady (and any others
already present, such as PodScheduled, which the kubelet does not own); a condition keeps its
``lastTransitionTime`` while its status does not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .meta import Obj, rfc3339

KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


@dataclass
class ContainerView:
    """What the status says about one container."""

    name: str
    image: str
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    image_id: str = ""
    container_id: str = ""
    done: bool = False

    def as_status(self) -> Obj:
        out: Obj = {
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out


@dataclass
class PodView:
    pod: Obj
    init: list[ContainerView]
    main: list[ContainerView]
    host_ip: str
    pod_ip: str
    start_time: float
    terminal: bool = False


def _ran_before(view: ContainerView) -> bool:
    return "terminated" in view.last_state


def phase(view: PodView) -> str:
    """getPhase: Pending until every container ran; Running while any runs or restarts;
    Succeeded/Failed once all stopped for good."""
    policy = view.pod["spec"].get("restartPolicy", "Always")
    init_failed = any(
        "terminated" in c.state and c.state["terminated"].get("exitCode") != 0 for c in view.init
    )
    if init_failed and policy == "Never":
        return "Failed"
    if any(not c.done for c in view.init):
        return "Pending"
    running = stopped = succeeded = waiting = 0
    for c in view.main:
        if "running" in c.state:
            running += 1
        elif "terminated" in c.state:
            stopped += 1
            succeeded += c.state["terminated"].get("exitCode") == 0
        elif _ran_before(c):
            stopped += 1
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if not stopped:
        return "Pending"
    if view.terminal:
        return "Succeeded" if stopped == succeeded else "Failed"
    if policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Failed" if policy == "Never" else "Running"


def _condition(type_: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    out: Obj = {"type": type_, "status": "True" if ok else "False"}
    if not ok and reason:
        out["reason"] = reason
    if not ok and message:
        out["message"] = message
    return out


def conditions(view: PodView, pod_phase: str) -> list[Obj]:
    pending_init = [c.name for c in view.init if not c.done]
    unready = [c.name for c in view.main if not c.ready]
    completed = pod_phase in ("Succeeded", "Failed")
    if completed:
        ready = _condition("ContainersReady", False, "PodCompleted", "")
    else:
        ready = _condition(
            "ContainersReady", not unready, "ContainersNotReady",
            f"containers with unready status: [{' '.join(unready)}]",
        )
    gates = _readiness_gates(view.pod)
    pod_ready = {**ready, "type": "Ready"}
    if ready["status"] == "True" and gates:
        pod_ready = _condition("Ready", False, "ReadinessGatesNotReady", gates)
    return [
        _condition("PodReadyToStartContainers", not completed),
        _condition(
            "Initialized", not pending_init, "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(pending_init)}]",
        ),
        pod_ready,
        ready,
    ]


def _readiness_gates(pod: Obj) -> str:
    present = {
        c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []
    }
    for gate in pod["spec"].get("readinessGates") or []:
        kind = gate.get("conditionType")
        if kind not in present:
            return f'corresponding condition of pod readiness gate "{kind}" does not exist.'
        if present[kind] != "True":
            return f'the status of pod readiness gate "{kind}" is not "True", but {present[kind]}'
    return ""


def _with_times(new: list[Obj], old: list[Obj], at: float) -> list[Obj]:
    previous = {c.get("type"): c for c in old}
    out = []
    for cond in new:
        before = previous.get(cond["type"])
        since = (
            before.get("lastTransitionTime")
            if before and before.get("status") == cond["status"]
            else None
        )
        out.append({**cond, "lastTransitionTime": since or rfc3339(at)})
    return out


def pod_status(view: PodView, at: float) -> Obj:
    old = view.pod.get("status") or {}
    pod_phase = phase(view)
    mine = conditions(view, pod_phase)
    foreign = [c for c in old.get("conditions") or [] if c.get("type") not in KUBELET_CONDITIONS]
    status: Obj = {
        "phase": pod_phase,
        "conditions": _with_times(mine, old.get("conditions") or [], at) + foreign,
        "hostIP": view.host_ip,
        "hostIPs": [{"ip": view.host_ip}],
        "podIP": view.pod_ip,
        "podIPs": [{"ip": view.pod_ip}],
        "startTime": rfc3339(view.start_time),
        "containerStatuses": [c.as_status() for c in view.main],
    }
    if view.init:
        status["initContainerStatuses"] = [c.as_status() for c in view.init]
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    return status
