"""Strategic merge patch of the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/strategic.py. The Deployment cases are the patches
``kubectl apply`` (client-side) and ``kubectl patch`` send; the list-order cases restate, with
other data, cases of k8s.io/apimachinery's strategicpatch tests against a schema of the same shape.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rehearsal.kube.patch import PatchError, apply_strategic_merge_patch
from tests.rehearsal.kube.schema import SchemaLookup, SchemaNode


@pytest.fixture(scope="module")
def deployment_schema() -> SchemaNode:
    kind = SchemaLookup.load().kind("apps/v1", "Deployment")
    assert kind is not None
    return kind.root


def live_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model", "labels": {"app": "model", "team": "ml"},
                     "finalizers": ["a.example.com/x", "b.example.com/y"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "model"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "model"}},
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "model:1.0",
                            "args": ["--port", "8000"],
                            "env": [
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "WORKERS", "value": "2"},
                            ],
                            "ports": [{"containerPort": 8000, "protocol": "TCP", "name": "http"}],
                        },
                        {"name": "istio-proxy", "image": "proxy:1"},
                    ]
                },
            },
        },
    }


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


def test_container_image_change_as_kubectl_apply_sends_it(deployment_schema: SchemaNode) -> None:
    patch = {
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "api"}],
            "containers": [{"name": "api", "image": "model:1.1"}],
        }}}
    }
    live = live_deployment()
    out = apply_strategic_merge_patch(live, patch, deployment_schema)
    assert live == live_deployment()
    assert [c["name"] for c in containers(out)] == ["api", "istio-proxy"]
    assert containers(out)[0]["image"] == "model:1.1"
    assert containers(out)[0]["env"] == containers(live)[0]["env"]
    assert containers(out)[1] == {"name": "istio-proxy", "image": "proxy:1"}


def test_env_add_and_remove_by_name(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "api"}],
        "containers": [{
            "name": "api",
            "$setElementOrder/env": [{"name": "MODEL_PATH"}, {"name": "LOG_LEVEL"}],
            "env": [
                {"name": "MODEL_PATH", "value": "/models/m.pkl"},
                {"name": "WORKERS", "$patch": "delete"},
            ],
        }],
    }}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert containers(out)[0]["env"] == [
        {"name": "MODEL_PATH", "value": "/models/m.pkl"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]


def test_ports_merge_by_container_port(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{
        "name": "api",
        "$setElementOrder/ports": [{"containerPort": 8000}, {"containerPort": 9090}],
        "ports": [
            {"containerPort": 8000, "name": "web"},
            {"containerPort": 9090, "name": "metrics"},
        ],
    }]}}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert containers(out)[0]["ports"] == [
        {"containerPort": 8000, "protocol": "TCP", "name": "web"},
        {"containerPort": 9090, "name": "metrics"},
    ]


def test_retain_keys_clears_rolling_update_when_switching_to_recreate(
    deployment_schema: SchemaNode,
) -> None:
    patch = {"spec": {"strategy": {
        "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None,
    }}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_alone_drops_unlisted_fields(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "RollingUpdate"}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert out["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_null_deletes_and_maps_merge(deployment_schema: SchemaNode) -> None:
    patch = {"metadata": {"labels": {"team": None, "version": "v2"}}, "spec": {"replicas": None}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert out["metadata"]["labels"] == {"app": "model", "version": "v2"}
    assert "replicas" not in out["spec"]


def test_nulls_inside_new_values_are_dropped(deployment_schema: SchemaNode) -> None:
    patch = {"metadata": {"annotations": {"a": "1", "b": None}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert out["metadata"]["annotations"] == {"a": "1"}


def test_lists_without_merge_strategy_are_replaced(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "args": ["--port", "9000"]},
    ]}}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert containers(out)[0]["args"] == ["--port", "9000"]


def test_primitive_merge_list_is_a_set(deployment_schema: SchemaNode) -> None:
    patch = {"metadata": {"finalizers": ["c.example.com/z", "a.example.com/x"]}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert sorted(out["metadata"]["finalizers"]) == [
        "a.example.com/x", "b.example.com/y", "c.example.com/z",
    ]
    assert len(out["metadata"]["finalizers"]) == 3


def test_delete_from_primitive_list(deployment_schema: SchemaNode) -> None:
    patch = {"metadata": {
        "$setElementOrder/finalizers": ["b.example.com/y"],
        "$deleteFromPrimitiveList/finalizers": ["a.example.com/x", "never.example.com/q"],
    }}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert out["metadata"]["finalizers"] == ["b.example.com/y"]


def test_delete_from_missing_primitive_list_adds_nothing(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"template": {"spec": {"$deleteFromPrimitiveList/nodeSelector": ["x"]}}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert "nodeSelector" not in out["spec"]["template"]["spec"]


def test_patch_replace_directive_on_a_merging_list(deployment_schema: SchemaNode) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "only:1"},
        {"$patch": "replace"},
    ]}}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert containers(out) == [{"name": "only", "image": "only:1"}]


def test_patch_replace_and_delete_directives_on_maps(deployment_schema: SchemaNode) -> None:
    replace = {"metadata": {"labels": {"$patch": "replace", "only": "this"}}}
    out = apply_strategic_merge_patch(live_deployment(), replace, deployment_schema)
    assert out["metadata"]["labels"] == {"only": "this"}
    delete = {"spec": {"selector": {"$patch": "delete"}}}
    out = apply_strategic_merge_patch(live_deployment(), delete, deployment_schema)
    assert out["spec"]["selector"] == {}


def test_new_map_with_directive_is_not_added(deployment_schema: SchemaNode) -> None:
    patch = {"metadata": {"annotations": {"$patch": "delete"}}}
    out = apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert "annotations" not in out["metadata"]


def test_null_patch_changes_nothing(deployment_schema: SchemaNode) -> None:
    assert apply_strategic_merge_patch(live_deployment(), None, deployment_schema) == (
        live_deployment()
    )


@pytest.mark.parametrize(
    ("patch", "code", "message"),
    [
        (
            {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
            500,
            "map: map[image:x] does not contain declared merge key: name",
        ),
        (
            {"spec": {"template": {"spec": {"containers": [{"name": "api", "$patch": "merge"}]}}}},
            500,
            "merging lists cannot yet be specified in the patch",
        ),
        (
            {"metadata": {"labels": {"$patch": "purge"}}},
            500,
            "unknown patch type: purge in map: map[$patch:purge]",
        ),
        (
            {"spec": {"strategy": {"$retainKeys": "type", "type": "Recreate"}}},
            400,
            "invalid patch format of retainKeys",
        ),
        (
            {"spec": {"strategy": {"$retainKeys": ["rollingUpdate"], "type": "Recreate"}}},
            400,
            "invalid patch format of retainKeys",
        ),
        (
            {"metadata": {"$deleteFromPrimitiveListfinalizers": ["x"]}},
            400,
            "invalid patch format of primitive list",
        ),
        (
            {"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "istio-proxy"}],
                "containers": [{"name": "api", "image": "x"}],
            }}}},
            500,
            "The order in patch list:\n[map[image:x name:api]]\n doesn't match "
            "$setElementOrder list:\n[map[name:istio-proxy]]\n",
        ),
        (
            {"metadata": {"finalizers": [["nested"]]}},
            500,
            "list element types are not identical: [[a.example.com/x b.example.com/y] [[nested]]]",
        ),
    ],
)
def test_errors_sorted_as_the_server_sorts_them(
    deployment_schema: SchemaNode, patch: dict[str, Any], code: int, message: str
) -> None:
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch(live_deployment(), patch, deployment_schema)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_non_object_patch_is_400(deployment_schema: SchemaNode) -> None:
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch(live_deployment(), [1], deployment_schema)
    assert caught.value.code == 400
    assert caught.value.message == (
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    )


# A schema shaped like the one strategicpatch's own tests use.
ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "value": {"type": "string"},
        "other": {"type": "string"},
        "items": {
            "type": "array",
            "items": {"$ref": "#/$defs/Item"},
            "x-kubernetes-patch-strategy": "merge",
            "x-kubernetes-patch-merge-key": "name",
        },
        "numbers": {
            "type": "array",
            "items": {"type": "integer"},
            "x-kubernetes-patch-strategy": "merge",
        },
    },
}


@pytest.fixture(scope="module")
def item_schema() -> SchemaNode:
    return SchemaLookup({"Item": ITEM}).definition("Item")


def named(*specs: str) -> list[dict[str, Any]]:
    """``"a"`` -> {"name": "a"}; ``"a=1"`` -> {"name": "a", "value": "1"}."""
    out = []
    for spec in specs:
        name, _, value = spec.partition("=")
        out.append({"name": name, "value": value} if value else {"name": name})
    return out


def test_set_element_order_keeps_server_only_items_in_place(item_schema: SchemaNode) -> None:
    live = {"items": [
        {"name": "p"}, {"name": "q", "value": "q", "other": "x"}, *named("s", "r=r", "t=t"),
    ]}
    patch = {"$setElementOrder/items": named("q", "p", "t", "r")}
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert [i["name"] for i in out["items"]] == ["q", "p", "s", "t", "r"]
    assert out["items"][0]["other"] == "x"


def test_add_and_delete_with_set_element_order(item_schema: SchemaNode) -> None:
    live = {"items": [
        {"name": "k", "other": "a"},
        {"name": "m", "value": "m", "other": "b"},
        {"name": "l", "value": "l"},
    ]}
    patch = {
        "$setElementOrder/items": named("n", "m", "k"),
        "items": [{"name": "n", "value": "n"}, {"name": "l", "$patch": "delete"}],
    }
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert out["items"] == [
        {"name": "n", "value": "n"},
        {"name": "m", "value": "m", "other": "b"},
        {"name": "k", "other": "a"},
    ]


def test_server_only_item_order_after_delete_and_add(item_schema: SchemaNode) -> None:
    """The server orders by the live list as its in-place delete/append left it."""
    live = {"items": [{"name": "k"}, {"name": "m", "other": "b"}, {"name": "o", "other": "c"}]}
    patch = {
        "$setElementOrder/items": named("m", "n"),
        "items": [{"name": "n"}, {"name": "k", "$patch": "delete"}],
    }
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert [i["name"] for i in out["items"]] == ["m", "o", "n"]


def test_set_element_order_with_duplicate_items(item_schema: SchemaNode) -> None:
    live = {"items": named("u", "v=first", "w", "v=second", "x")}
    patch = {"$setElementOrder/items": named("v", "u", "x", "w", "v")}
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert out["items"] == named("v=first", "v=second", "u", "x", "w")


def test_nested_merging_lists(item_schema: SchemaNode) -> None:
    live = {"items": [{"name": "outer", "items": named("i1=a", "i2=b")}]}
    patch = {"items": [{"name": "outer", "items": [{"name": "i1", "value": "z"}]}]}
    out = apply_strategic_merge_patch(live, copy.deepcopy(patch), item_schema)
    assert out["items"][0]["items"] == named("i1=z", "i2=b")


def test_primitive_list_delete_removes_every_copy(item_schema: SchemaNode) -> None:
    live = {"numbers": [5, 6, 7, 7, 8]}
    patch = {"$setElementOrder/numbers": [5, 6], "$deleteFromPrimitiveList/numbers": [7]}
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert out["numbers"] == [5, 6, 8]


def test_list_of_lists_is_422(item_schema: SchemaNode) -> None:
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch({"numbers": []}, {"numbers": [[1]]}, item_schema)
    assert (caught.value.code, caught.value.reason) == (422, "Invalid")
    assert caught.value.detail == "lists of lists are not supported"


def test_primitive_list_merge_keeps_patch_order(item_schema: SchemaNode) -> None:
    live = {"numbers": [1, 2, 3]}
    patch = {"$setElementOrder/numbers": [4, 2, 1, 3], "numbers": [4]}
    out = apply_strategic_merge_patch(live, patch, item_schema)
    assert out["numbers"] == [4, 2, 1, 3]
