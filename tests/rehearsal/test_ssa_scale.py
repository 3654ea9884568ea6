"""managedFields of writes through the ``scale`` subresource (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/scalefields.py ``track_scale_update``, the registries'
ScaleHandler: the write is tracked on the Scale and folded back into the parent's entries.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rehearsal.kube.scalefields import track_scale_update
from tests.rehearsal.kube.schema import SchemaLookup, SchemaNode

T0, T1 = "2024-07-01T08:00:00Z", "2024-07-02T08:00:00Z"
REPLICAS = {"f:spec": {"f:replicas": {}}}


@pytest.fixture(scope="module")
def scale_root() -> SchemaNode:
    kind = SchemaLookup.load().kind("autoscaling/v1", "Scale")
    assert kind is not None
    return kind.root


def entry(manager: str, operation: str, fields: dict[str, Any], time: str | None = T0,
          subresource: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"manager": manager, "operation": operation, "apiVersion": "apps/v1"}
    if time:
        out["time"] = time
    out |= {"fieldsType": "FieldsV1", "fieldsV1": fields}
    if subresource:
        out["subresource"] = subresource
    return out


def deployment(*entries: dict[str, Any], replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "managedFields": list(entries)},
            "spec": {"replicas": replicas}}


def scale(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas}, "status": {"replicas": 1, "selector": "app=web"}}


def by_manager(entries: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e.get("subresource", "")): e for e in entries}


APPLIED = {"f:spec": {"f:replicas": {}, "f:template": {}}}


def test_the_scaler_takes_the_replicas_from_the_applier(scale_root: SchemaNode) -> None:
    parent = deployment(entry("mlmon", "Apply", APPLIED))
    after = by_manager(track_scale_update(parent, scale(1), scale(3), "kubectl", scale_root, ".spec.replicas", T1))
    assert after[("mlmon", "")] == entry("mlmon", "Apply", {"f:spec": {"f:template": {}}})
    assert after[("kubectl", "scale")] == entry("kubectl", "Update", REPLICAS, time=None, subresource="scale")


def test_a_second_scaler_replaces_the_first(scale_root: SchemaNode) -> None:
    parent = deployment(entry("mlmon", "Apply", {"f:spec": {"f:template": {}}}),
                        entry("kubectl", "Update", REPLICAS, time=None, subresource="scale"), replicas=3)
    after = track_scale_update(parent, scale(3), scale(5), "hpa", scale_root, ".spec.replicas", T1)
    assert sorted(by_manager(after)) == [("hpa", "scale"), ("mlmon", "")]


def test_a_scale_that_changes_nothing_keeps_the_owners(scale_root: SchemaNode) -> None:
    updater = entry("kubectl-edit", "Update", {"f:spec": {"f:replicas": {}, "f:paused": {}}})
    parent = deployment(entry("mlmon", "Apply", {"f:spec": {"f:template": {}}}), updater)
    after = by_manager(track_scale_update(parent, scale(1), scale(1), "kubectl", scale_root, ".spec.replicas", T1))
    assert sorted(after) == [("kubectl-edit", ""), ("mlmon", "")]
    assert after[("kubectl-edit", "")]["fieldsV1"] == {"f:spec": {"f:paused": {}, "f:replicas": {}}}


def test_an_untracked_parent_stays_untracked(scale_root: SchemaNode) -> None:
    parent = deployment()
    before = copy.deepcopy(parent)
    assert track_scale_update(parent, scale(1), scale(2), "kubectl", scale_root, ".spec.replicas", T1) == []
    assert parent == before
