"""Server-side apply of the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/ssa.py ``server_side_apply``: merging, ownership,
conflicts and pruning as sigs.k8s.io/structured-merge-diff and k8s.io/apimachinery's field manager
do them (scenarios of their tests restated on Deployments, Services and a custom resource).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.rehearsal.kube.patch import PatchError
from tests.rehearsal.kube.schema import KindSchema, SchemaLookup, SchemaNode
from tests.rehearsal.kube.ssa import (
    LAST_APPLIED,
    ApplyConflict,
    server_side_apply,
    track_update,
)

T0, T1, T2, T3 = (f"2024-06-0{d}T12:00:00Z" for d in range(1, 5))


@pytest.fixture(scope="module")
def lookup() -> SchemaLookup:
    return SchemaLookup.load()


@pytest.fixture(scope="module")
def deployment(lookup: SchemaLookup) -> SchemaNode:
    kind = lookup.kind("apps/v1", "Deployment")
    assert kind is not None
    return kind.root


def config(replicas: int | None = 2, image: str = "model:1", **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "api", "image": image, "ports": [{"containerPort": 8000}]}
    container.update(extra)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "model"}},
        "template": {
            "metadata": {"labels": {"app": "model"}},
            "spec": {"containers": [container]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model", "namespace": "ml"},
        "spec": spec,
    }


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the server would keep: the object with an identity."""
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("uid", "d0e3f1")
    return out


def managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def test_create_records_the_applied_fields(deployment: SchemaNode) -> None:
    out = server_side_apply(None, config(), "kubectl", False, deployment, T0)
    assert out["spec"]["replicas"] == 2
    assert out["apiVersion"] == "apps/v1"
    (entry,) = out["metadata"]["managedFields"]
    assert entry == {
        "manager": "kubectl",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"api"}': {
                        ".": {},
                        "f:image": {},
                        "f:name": {},
                        "f:ports": {'k:{"containerPort":8000,"protocol":"TCP"}': {
                            ".": {}, "f:containerPort": {},
                        }},
                    }}},
                },
            }
        },
    }


def test_apply_twice_is_a_no_op(deployment: SchemaNode) -> None:
    first = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    again = server_side_apply(first, config(), "kubectl", False, deployment, T1)
    assert again == first
    assert managers(again)["kubectl"]["time"] == T0


def test_apply_does_not_mutate_its_arguments(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    live_copy, applied = copy.deepcopy(live), config(image="model:2")
    applied_copy = copy.deepcopy(applied)
    server_side_apply(live, applied, "kubectl", False, deployment, T1)
    assert (live, applied) == (live_copy, applied_copy)


def test_change_updates_value_and_time(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    out = server_side_apply(live, config(image="model:2"), "kubectl", False, deployment, T1)
    assert container(out)["image"] == "model:2"
    assert managers(out)["kubectl"]["time"] == T1


def test_conflict_with_an_updater_names_manager_and_path(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    scaled["metadata"]["managedFields"] = track_update(live, scaled, "hpa", deployment, T1)
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(scaled, config(), "kubectl", False, deployment, T2)
    error = caught.value
    assert error.code == 409 and error.reason == "Conflict"
    assert error.message == (
        'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas'
    )
    assert error.details == {"causes": [{
        "reason": "FieldManagerConflict",
        "message": 'conflict with "hpa" using apps/v1',
        "field": ".spec.replicas",
    }]}
    assert [(c.manager, c.path) for c in error.conflicts] == [("hpa", ".spec.replicas")]
    assert error.status()["code"] == 409


def test_several_conflicts_are_grouped_by_manager(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "ci", False, deployment, T0))
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, config(3, "model:9"), "other", False, deployment, T1)
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "ci":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="api"].image'
    )


def test_force_takes_ownership(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "ci", False, deployment, T0))
    out = server_side_apply(live, config(replicas=7), "ops", True, deployment, T1)
    assert out["spec"]["replicas"] == 7
    owners = managers(out)
    assert "f:replicas" in owners["ops"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in owners["ci"]["fieldsV1"]["f:spec"]
    assert "f:selector" in owners["ci"]["fieldsV1"]["f:spec"]


def test_same_value_from_two_appliers_is_shared_without_conflict(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "ci", False, deployment, T0))
    out = server_side_apply(live, config(), "ops", False, deployment, T1)
    assert out["spec"] == live["spec"]
    owners = managers(out)
    assert owners["ci"]["fieldsV1"] == owners["ops"]["fieldsV1"]
    assert "time" not in owners["ops"]


def test_fields_dropped_from_the_config_are_removed(deployment: SchemaNode) -> None:
    with_env = config(env=[{"name": "LOG_LEVEL", "value": "debug"}])
    live = stored(server_side_apply(None, with_env, "kubectl", False, deployment, T0))
    out = server_side_apply(live, config(replicas=None), "kubectl", False, deployment, T1)
    assert "replicas" not in out["spec"]
    assert "env" not in container(out)
    assert container(out)["ports"] == [{"containerPort": 8000}]
    assert "f:replicas" not in managers(out)["kubectl"]["fieldsV1"]["f:spec"]


def test_dropped_field_another_manager_owns_stays(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "ci", False, deployment, T0))
    shared = stored(server_side_apply(live, config(), "ops", False, deployment, T1))
    out = server_side_apply(shared, config(replicas=None), "ci", False, deployment, T2)
    assert out["spec"]["replicas"] == 2
    assert "f:replicas" not in managers(out)["ci"]["fieldsV1"]["f:spec"]


def test_two_managers_sharing_a_list_item(deployment: SchemaNode) -> None:
    """An item both appliers list survives one of them dropping it."""
    sidecar = {"name": "log", "image": "log:1"}
    both = config()
    both["spec"]["template"]["spec"]["containers"].append(sidecar)
    live = stored(server_side_apply(None, both, "ci", False, deployment, T0))
    ops = config()
    ops["spec"]["template"]["spec"]["containers"] = [sidecar]
    live = stored(server_side_apply(live, ops, "ops", False, deployment, T1))
    out = server_side_apply(live, config(), "ci", False, deployment, T2)
    names = [c["name"] for c in out["spec"]["template"]["spec"]["containers"]]
    assert names == ["api", "log"]
    out = server_side_apply(stored(out), {**ops, "spec": {
        "template": {"spec": {"containers": [{"name": "other", "image": "o:1"}]}},
    }}, "ops", False, deployment, T3)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["api", "other"]


def test_associative_list_order_follows_the_config_for_shared_items(
    lookup: SchemaLookup,
) -> None:
    schema = lookup.custom_resource({"type": "object", "properties": {"spec": {
        "type": "object", "properties": {"tags": {
            "type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set",
        }},
    }}}).root
    base = {"apiVersion": "example.com/v1", "kind": "Box", "metadata": {"name": "b"}}
    live = stored(server_side_apply(
        None, {**base, "spec": {"tags": ["a", "c"]}}, "owner", False, schema, T0
    ))
    updated = copy.deepcopy(live)
    updated["spec"]["tags"] = ["a", "b", "c", "d"]
    updated["metadata"]["managedFields"] = track_update(live, updated, "ctl", schema, T1)
    out = server_side_apply(
        updated, {**base, "spec": {"tags": ["a", "a2", "c", "c2"]}}, "owner", False, schema, T2
    )
    assert out["spec"]["tags"] == ["a", "b", "a2", "c", "d", "c2"]
    owners = managers(out)
    assert owners["owner"]["fieldsV1"]["f:spec"]["f:tags"] == {
        'v:"a"': {}, 'v:"a2"': {}, 'v:"c"': {}, 'v:"c2"': {},
    }
    assert owners["ctl"]["fieldsV1"]["f:spec"]["f:tags"] == {'v:"b"': {}, 'v:"d"': {}}


def test_atomic_list_and_map_are_replaced_whole(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(args=["--a", "--b"]), "ci", False, deployment, T0))
    changed = config(args=["--c"])
    changed["spec"]["selector"] = {"matchLabels": {"app": "model"}, "matchExpressions": []}
    out = server_side_apply(live, changed, "ci", False, deployment, T1)
    assert container(out)["args"] == ["--c"]
    assert out["spec"]["selector"] == changed["spec"]["selector"]
    fields = managers(out)["ci"]["fieldsV1"]["f:spec"]
    assert fields["f:selector"] == {}
    assert fields["f:template"]["f:spec"]["f:containers"]['k:{"name":"api"}']["f:args"] == {}


def test_port_without_protocol_matches_the_defaulted_live_port(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    container(live)["ports"][0]["protocol"] = "TCP"
    out = server_side_apply(live, config(), "kubectl", False, deployment, T1)
    assert container(out)["ports"] == [{"containerPort": 8000, "protocol": "TCP"}]


def test_status_in_the_config_is_not_owned(deployment: SchemaNode) -> None:
    applied = {**config(), "status": {"replicas": 3}}
    out = server_side_apply(None, applied, "kubectl", False, deployment, T0)
    assert "f:status" not in managers(out)["kubectl"]["fieldsV1"]
    on_status = server_side_apply(
        stored(out), {**config(replicas=9), "status": {"replicas": 3}}, "ctl", False,
        deployment, T1, subresource="status",
    )
    entry = managers(on_status)["ctl"]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_null_in_the_config_is_owned_but_not_stored(deployment: SchemaNode) -> None:
    live = stored(server_side_apply(None, config(), "kubectl", False, deployment, T0))
    applied = config()
    applied["spec"]["paused"] = None
    out = server_side_apply(live, applied, "kubectl", False, deployment, T1)
    assert "paused" not in out["spec"]
    assert "f:paused" in managers(out)["kubectl"]["fieldsV1"]["f:spec"]


def test_managed_fields_in_the_config_is_400(deployment: SchemaNode) -> None:
    applied = config()
    applied["metadata"]["managedFields"] = []
    with pytest.raises(PatchError) as caught:
        server_side_apply(None, applied, "kubectl", False, deployment, T0)
    assert (caught.value.code, caught.value.message) == (
        400, "metadata.managedFields must be nil",
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda c: c["spec"].update(replica=3), ".spec.replica: field not declared in schema"),
        (
            lambda c: c["spec"].update(replicas="3"),
            ".spec.replicas: expected numeric (int or float), got string",
        ),
        (
            lambda c: c["spec"]["template"]["spec"]["containers"].append({"name": "api"}),
            '.spec.template.spec.containers: duplicate entries for key [name="api"]',
        ),
        (
            lambda c: c["spec"]["template"]["spec"]["containers"].append({"image": "x"}),
            ".spec.template.spec.containers: element 1: associative list with keys has an "
            'element that omits all key fields ["name"] (and doesn\'t have default values for '
            "any key fields)",
        ),
    ],
)
def test_config_that_does_not_fit_the_schema_is_the_servers_500(
    deployment: SchemaNode, change: Any, error: str
) -> None:
    applied = config()
    change(applied)
    with pytest.raises(PatchError) as caught:
        server_side_apply(None, applied, "kubectl", False, deployment, T0)
    assert caught.value.code == 500
    assert caught.value.message == (
        f"failed to create typed patch object (ml/model; apps/v1, Kind=Deployment): {error}"
    )


def client_side_applied(deployment: SchemaNode, last: dict[str, Any]) -> dict[str, Any]:
    """A Deployment as ``kubectl apply`` (client side) leaves it, live values drifted."""
    live = copy.deepcopy(last)
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(last)}
    live["spec"]["replicas"] = 10
    live["metadata"]["managedFields"] = track_update(
        None, live, "kubectl-client-side-apply", deployment, T0
    )
    return stored(live)


def test_kubectl_server_side_takes_over_client_side_applied_fields(
    deployment: SchemaNode,
) -> None:
    live = client_side_applied(deployment, config())
    out = server_side_apply(live, config(replicas=10, image="model:2"), "kubectl", False,
                            deployment, T1)
    assert container(out)["image"] == "model:2"
    owners = managers(out)
    assert "f:image" in owners["kubectl"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"][
        "f:containers"]['k:{"name":"api"}']
    csa = owners["kubectl-client-side-apply"]["fieldsV1"]["f:spec"]
    assert "f:image" not in csa["f:template"]["f:spec"]["f:containers"]['k:{"name":"api"}']
    annotation = out["metadata"]["annotations"][LAST_APPLIED]
    assert annotation.endswith("\n")
    assert json.loads(annotation) == config(replicas=10, image="model:2")


def test_kubectl_still_conflicts_on_fields_that_drifted_from_last_applied(
    deployment: SchemaNode,
) -> None:
    live = client_side_applied(deployment, config())
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, config(replicas=4, image="model:2"), "kubectl", False,
                          deployment, T1)
    assert [c.path for c in caught.value.conflicts] == [".spec.replicas"]


def test_other_managers_get_every_conflict(deployment: SchemaNode) -> None:
    live = client_side_applied(deployment, config())
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, config(replicas=4, image="model:2"), "helm", False,
                          deployment, T1)
    assert [c.path for c in caught.value.conflicts] == [
        ".spec.replicas", '.spec.template.spec.containers[name="api"].image',
    ]
    assert caught.value.conflicts[0].manager == "kubectl-client-side-apply"


def test_object_without_managed_fields_is_owned_before_first_apply(
    deployment: SchemaNode,
) -> None:
    live = stored(config())
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, config(replicas=3), "kubectl", False, deployment, T0)
    assert caught.value.message.startswith(
        'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1'
    )


def test_unknown_kind_applies_with_the_deduced_schema() -> None:
    deduced = KindSchema.deduced().root
    base = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}}
    live = stored(server_side_apply(
        None, {**base, "spec": {"a": {"b": 1}, "list": [1, 2]}}, "m", False, deduced, T0
    ))
    assert managers(live)["m"]["fieldsV1"] == {
        "f:spec": {".": {}, "f:a": {".": {}, "f:b": {}}, "f:list": {}},
    }
    out = server_side_apply(live, {**base, "spec": {"a": {"c": 2}}}, "m", False, deduced, T1)
    assert out["spec"] == {"a": {"c": 2}}
