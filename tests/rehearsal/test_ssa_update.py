"""managedFields of non-apply writes in the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/ssa.py ``track_update``: what create, update and patch
(operation ``Update``) record, as k8s.io/apimachinery's field manager records it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rehearsal.kube.schema import SchemaLookup, SchemaNode
from tests.rehearsal.kube.ssa import server_side_apply, track_update

T0, T1, T2 = "2024-07-01T08:00:00Z", "2024-07-02T08:00:00Z", "2024-07-03T08:00:00Z"


@pytest.fixture(scope="module")
def deployment() -> SchemaNode:
    kind = SchemaLookup.load().kind("apps/v1", "Deployment")
    assert kind is not None
    return kind.root


def created() -> dict[str, Any]:
    """A Deployment as ``kubectl create deployment`` sends it, after server defaulting."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web", "image": "nginx", "resources": {},
                        "imagePullPolicy": "Always",
                    }],
                    "restartPolicy": "Always",
                    "securityContext": {},
                },
            },
        },
        "status": {},
    }


def with_fields(obj: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"]["uid"] = "5c1e"
    out["metadata"]["managedFields"] = entries
    return out


def by_manager(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in entries}


def test_create_records_every_field_with_markers_for_new_maps(deployment: SchemaNode) -> None:
    (entry,) = track_update(None, created(), "kubectl-create", deployment, T0)
    assert entry["manager"] == "kubectl-create"
    assert entry["operation"] == "Update"
    assert entry["apiVersion"] == "apps/v1"
    assert entry["time"] == T0
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:progressDeadlineSeconds": {},
            "f:replicas": {},
            "f:selector": {},
            "f:strategy": {
                "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                "f:type": {},
            },
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {'k:{"name":"web"}': {
                        ".": {},
                        "f:image": {},
                        "f:imagePullPolicy": {},
                        "f:name": {},
                        "f:resources": {},
                    }},
                    "f:restartPolicy": {},
                    "f:securityContext": {},
                },
            },
        },
    }


def test_unchanged_object_keeps_identical_managed_fields(deployment: SchemaNode) -> None:
    entries = track_update(None, created(), "kubectl-create", deployment, T0)
    live = with_fields(created(), entries)
    assert track_update(live, copy.deepcopy(live), "kubectl-edit", deployment, T1) == entries


def test_changed_field_moves_to_the_writer(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 4
    new["metadata"]["labels"]["tier"] = "front"
    entries = by_manager(track_update(live, new, "kubectl-scale", deployment, T1))
    assert entries["kubectl-scale"]["time"] == T1
    assert entries["kubectl-scale"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:tier": {}}},
        "f:spec": {"f:replicas": {}},
    }
    assert "f:replicas" not in entries["kubectl-create"]["fieldsV1"]["f:spec"]
    assert entries["kubectl-create"]["time"] == T0


def test_removed_fields_leave_every_manager(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    new = copy.deepcopy(live)
    del new["spec"]["strategy"]["rollingUpdate"]
    new["spec"]["strategy"]["type"] = "Recreate"
    entries = by_manager(track_update(live, new, "helm", deployment, T1))
    assert entries["helm"]["fieldsV1"] == {"f:spec": {"f:strategy": {"f:type": {}}}}
    assert entries["kubectl-create"]["fieldsV1"]["f:spec"].get("f:strategy") is None


def test_manager_losing_everything_is_dropped(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "a", deployment, T0))
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 2
    live = with_fields(scaled, track_update(live, scaled, "b", deployment, T1))
    again = copy.deepcopy(live)
    again["spec"]["replicas"] = 3
    entries = by_manager(track_update(live, again, "c", deployment, T2))
    assert set(entries) == {"a", "c"}


def test_status_changes_are_not_tracked_on_the_main_resource(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    new = copy.deepcopy(live)
    new["status"] = {"replicas": 1}
    entries = track_update(live, new, "kubectl-create", deployment, T1)
    assert entries == live["metadata"]["managedFields"]


def test_status_subresource_writer_owns_status(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    new = copy.deepcopy(live)
    new["status"] = {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    new["spec"]["replicas"] = 9
    new["metadata"]["managedFields"] = []
    entries = by_manager(
        track_update(live, new, "kube-controller-manager", deployment, T1, "status")
    )
    controller = entries["kube-controller-manager"]
    assert controller["subresource"] == "status"
    assert controller["fieldsV1"] == {"f:status": {
        "f:conditions": {
            ".": {}, 'k:{"type":"Available"}': {".": {}, "f:status": {}, "f:type": {}},
        },
        "f:replicas": {},
    }}
    assert "kubectl-create" in entries


def test_custom_resource_without_status_subresource_tracks_status(
    deployment: SchemaNode,
) -> None:
    new = {**created(), "status": {"replicas": 1}}
    entries = track_update(None, new, "m", deployment, T0, reset_fields=())
    assert entries[0]["fieldsV1"]["f:status"] == {"f:replicas": {}}


def test_managed_fields_sent_by_the_client_replace_the_live_ones(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"] = [{
        "manager": "restored", "operation": "Update", "apiVersion": "apps/v1",
        "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }]
    entries = track_update(live, sent, "kubectl-replace", deployment, T1)
    assert [e["manager"] for e in entries] == ["restored"]


@pytest.mark.parametrize("reset", [[], [{}]])
def test_empty_managed_fields_clear_tracking(
    deployment: SchemaNode, reset: list[dict[str, Any]]
) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    cleared = copy.deepcopy(live)
    cleared["metadata"]["managedFields"] = reset
    assert track_update(live, cleared, "kubectl-patch", deployment, T1) == []
    untracked = copy.deepcopy(cleared)
    del untracked["metadata"]["managedFields"]
    untracked["spec"]["replicas"] = 6
    assert track_update(cleared, untracked, "kubectl-scale", deployment, T2) == []


def test_invalid_managed_fields_from_the_client_are_ignored(deployment: SchemaNode) -> None:
    entries = track_update(None, created(), "kubectl-create", deployment, T0)
    live = with_fields(created(), entries)
    sent = copy.deepcopy(live)
    sent["metadata"]["managedFields"] = [{"manager": "x", "operation": "Bogus"}]
    assert track_update(live, sent, "kubectl-edit", deployment, T1) == entries


def test_update_managers_are_capped_at_ten(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "creator", deployment, T0))
    for n in range(12):
        new = copy.deepcopy(live)
        new["metadata"].setdefault("annotations", {})[f"step-{n}"] = "x"
        stamp = f"2024-07-01T09:{n:02d}:00Z"
        live = with_fields(new, track_update(live, new, f"writer-{n}", deployment, stamp))
    names = [e["manager"] for e in live["metadata"]["managedFields"]]
    assert len(names) == 10
    assert "ancient-changes" in names
    assert "creator" not in names and "writer-0" not in names and "writer-1" not in names
    ancient = by_manager(live["metadata"]["managedFields"])["ancient-changes"]
    assert "f:step-1" in ancient["fieldsV1"]["f:metadata"]["f:annotations"]
    assert "f:spec" in ancient["fieldsV1"]


def test_apply_after_updates_conflicts_with_the_updater(deployment: SchemaNode) -> None:
    live = with_fields(created(), track_update(None, created(), "kubectl-create", deployment, T0))
    applied = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1},
    }
    out = server_side_apply(live, applied, "kubectl", False, deployment, T1)
    assert out["spec"] == live["spec"]
    assert {e["manager"] for e in out["metadata"]["managedFields"]} == {
        "kubectl", "kubectl-create",
    }
