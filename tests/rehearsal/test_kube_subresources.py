"""Column: rehearsal. Subresources whose side effects clients rely on: ``pods/<name>/binding`` sets
the node, merges the binding's annotations and sets ``PodScheduled=True`` as the pod registry's
BindingREST does (and refuses a second binding with 409); a write to ``deployments/<name>/scale``
(``kubectl scale``, the python client's patch) records its field manager for ``.spec.replicas``
with subresource ``scale``, so a later server-side apply of another replica count conflicts as
on the real server."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client as k8s

from tests.rehearsal.conftest import Kube

APPLY = "application/apply-patch+yaml"


def pod(name: str, scheduler: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"schedulerName": scheduler, "containers": [{"name": "c", "image": "rehearsal/none:1"}]},
    }


def conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []}


def test_binding_sets_the_node_and_pod_scheduled(kube: Kube, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    status, _, _ = kube.raw("POST", path, pod("manual", "manual-scheduler"))
    assert status == 201
    _, _, before = kube.raw("GET", f"{path}/manual")
    assert "PodScheduled" not in conditions(before)
    binding = {
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "manual", "annotations": {"example.com/placed-by": "test"}},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "elsewhere"},
    }
    status, _, answer = kube.raw("POST", f"{path}/manual/binding", binding)
    assert (status, answer["status"]) == (201, "Success")
    _, _, bound = kube.raw("GET", f"{path}/manual")
    assert bound["spec"]["nodeName"] == "elsewhere"
    assert bound["metadata"]["annotations"] == {"example.com/placed-by": "test"}
    assert conditions(bound) == {"PodScheduled": "True"}
    (scheduled,) = bound["status"]["conditions"]
    assert set(scheduled) == {"type", "status", "lastTransitionTime"}
    status, _, refused = kube.raw("POST", f"{path}/manual/binding", binding)
    assert (status, refused["reason"]) == (409, "Conflict")
    assert refused["message"] == (
        'Operation cannot be fulfilled on pods/binding "manual": pod manual is already assigned to node "elsewhere"')
    kube.raw("DELETE", f"{path}/manual", {"gracePeriodSeconds": 0})


def test_the_default_scheduler_leaves_pod_scheduled_true(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    kube.raw("POST", f"/api/v1/namespaces/{namespace}/pods", pod("auto", "default-scheduler"))
    watch_pod = kube.kubectl("wait", "-n", namespace, "pod/auto", "--for=condition=PodScheduled", "--timeout=60s")
    assert watch_pod.returncode == 0
    scheduled = core.read_namespaced_pod("auto", namespace)
    assert scheduled.spec.node_name
    assert {c.type: c.status for c in scheduled.status.conditions}["PodScheduled"] == "True"


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "rehearsal/none:1"}]
"""


def managers(kube: Kube, namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    _, _, obj = kube.raw("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    return {(e["manager"], e.get("subresource", "")): e for e in obj["metadata"]["managedFields"]}


def apply(kube: Kube, namespace: str, force: bool = False) -> tuple[int, Any]:
    query = [("fieldManager", "mlmon")] + ([("force", "true")] if force else [])
    status, _, body = kube.raw("PATCH", f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
                               yaml.safe_load(DEPLOYMENT), query=query, content_type=APPLY)
    return status, body


def test_kubectl_scale_owns_the_replicas_and_apply_conflicts(kube: Kube, namespace: str) -> None:
    assert apply(kube, namespace)[0] == 201
    assert "f:replicas" in managers(kube, namespace)[("mlmon", "")]["fieldsV1"]["f:spec"]
    kube.kubectl("scale", "-n", namespace, "deployment/web", "--replicas=3")
    entries = managers(kube, namespace)
    scale = entries[("kubectl", "scale")]
    assert (scale["operation"], scale["apiVersion"], scale["fieldsV1"]) == (
        "Update", "apps/v1", {"f:spec": {"f:replicas": {}}})
    assert "f:replicas" not in entries[("mlmon", "")]["fieldsV1"]["f:spec"]
    status, conflict = apply(kube, namespace)
    assert (status, conflict["reason"]) == (409, "Conflict")
    assert conflict["message"] == (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas')
    assert conflict["details"]["causes"] == [{
        "reason": "FieldManagerConflict",
        "message": 'conflict with "kubectl" with subresource "scale" using apps/v1',
        "field": ".spec.replicas",
    }]
    status, forced = apply(kube, namespace, force=True)
    assert (status, forced["spec"]["replicas"]) == (200, 1)
    entries = managers(kube, namespace)
    assert ("kubectl", "scale") not in entries
    assert "f:replicas" in entries[("mlmon", "")]["fieldsV1"]["f:spec"]


def test_a_scale_patch_names_its_own_field_manager(kube: Kube, namespace: str) -> None:
    apps = k8s.AppsV1Api(kube.api)
    assert apply(kube, namespace)[0] == 201
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 2}}, field_manager="autoscaler")
    apps.replace_namespaced_deployment_scale(
        "web", namespace, {"metadata": {"name": "web"}, "spec": {"replicas": 4}}, field_manager="other-scaler")
    entries = managers(kube, namespace)
    assert entries[("other-scaler", "scale")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert ("autoscaler", "scale") not in entries
    assert apps.read_namespaced_deployment_scale("web", namespace).spec.replicas == 4
    status, conflict = apply(kube, namespace)
    assert status == 409 and '"other-scaler" with subresource "scale"' in conflict["message"]
