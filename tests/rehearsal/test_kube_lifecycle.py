"""Column: rehearsal. Deletion as kube-apiserver and kube-controller-manager carry it out.

Pins: deleting a namespace marks it Terminating, refuses new content (403 Forbidden), deletes its
content and then the namespace; finalizers keep an object (with deletionTimestamp) until they are
removed; garbage collection by ownerReferences for background, foreground and orphan
propagation; ``dryRun=All`` answers like a real write and stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from tests.rehearsal.conftest import Kube

WAIT = 20.0


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _exists(kube: Kube, path: str) -> bool:
    return kube.raw("GET", path)[0] == 200


def _cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"k": "v"}}


def test_namespace_deletion_removes_contents_and_refuses_new_ones(kube: Kube) -> None:
    core = k8s.CoreV1Api(kube.api)
    ns = "doomed-ns"
    created = core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=ns)))
    assert created.spec.finalizers == ["kubernetes"]
    assert created.metadata.labels == {"kubernetes.io/metadata.name": ns}
    _eventually(lambda: _exists(kube, f"/api/v1/namespaces/{ns}/serviceaccounts/default"), "the default ServiceAccount")
    kube.raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("held", finalizers=["example.com/hold"]))
    kube.raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("plain"))
    status, _, terminating = kube.raw("DELETE", f"/api/v1/namespaces/{ns}")
    assert status == 200
    assert terminating["status"]["phase"] == "Terminating"
    status, _, refused = kube.raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("late"))
    assert status == 403
    assert refused["message"] == (
        f'configmaps "late" is forbidden: unable to create new content in namespace {ns} because it is being terminated'
    )
    _eventually(lambda: not _exists(kube, f"/api/v1/namespaces/{ns}/configmaps/plain"), "the plain ConfigMap to go")
    held = core.read_namespaced_config_map("held", ns)
    assert held.metadata.deletion_timestamp is not None
    assert _exists(kube, f"/api/v1/namespaces/{ns}")
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    _eventually(lambda: not _exists(kube, f"/api/v1/namespaces/{ns}"), "the namespace to go")
    status, _, missing = kube.raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("after"))
    assert status == 404
    assert missing["message"] == f'namespaces "{ns}" not found'


def _owned(owner: Any, name: str, block: bool = False) -> dict[str, Any]:
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}
    if block:
        ref["blockOwnerDeletion"] = True
    return _cm(name, ownerReferences=[ref])


def test_garbage_collection_follows_the_propagation_policy(kube: Kube, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for policy in ("Background", "Foreground", "Orphan"):
        owner = kube.raw("POST", base, _cm(f"owner-{policy.lower()}"))[2]
        child = f"child-{policy.lower()}"
        assert kube.raw("POST", base, _owned(owner, child, block=policy == "Foreground"))[0] == 201
        status, _, answer = kube.raw("DELETE", f"{base}/{owner['metadata']['name']}", {"propagationPolicy": policy})
        assert status == 200
        if policy == "Foreground":
            assert "foregroundDeletion" in answer["metadata"]["finalizers"]
        _eventually(lambda o=owner: not _exists(kube, f"{base}/{o['metadata']['name']}"), f"{policy} owner to go")
        if policy == "Orphan":
            _eventually(
                lambda c=child: "ownerReferences" not in kube.raw("GET", f"{base}/{c}")[2]["metadata"], "the orphan"
            )
        else:
            _eventually(lambda c=child: not _exists(kube, f"{base}/{c}"), f"the {policy} dependent to go")


def test_dry_run_stores_nothing(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    mark = kube.cluster.mark()
    status, _, dry = kube.raw("POST", f"/api/v1/namespaces/{namespace}/configmaps", _cm("dry"), [("dryRun", "All")])
    assert status == 201
    assert dry["metadata"]["uid"]
    assert "resourceVersion" not in dry["metadata"]
    assert not _exists(kube, f"/api/v1/namespaces/{namespace}/configmaps/dry")
    core.create_namespaced_config_map(namespace, _cm("real"))
    status, _, _ = kube.raw("DELETE", f"/api/v1/namespaces/{namespace}/configmaps/real", query=[("dryRun", "All")])
    assert status == 200
    assert _exists(kube, f"/api/v1/namespaces/{namespace}/configmaps/real")
    assert kube.raw("POST", f"/api/v1/namespaces/{namespace}/configmaps", _cm("x"), [("dryRun", "Some")])[0] == 400
    assert [r["status"] for r in kube.cluster.requests()[mark:] if r["query"].startswith("dryRun")] == [201, 200, 400]
