"""JSON patch and JSON merge patch of the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/patch.py against the behaviour of the evanphx/json-patch
v4 library kube-apiserver applies these patch types with, and the Status the server answers.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rehearsal.kube.patch import PatchError, apply_json_patch, apply_merge_patch

GENERIC = "the server rejected our request due to an error in our request"


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "app:1"},
                        {"name": "log", "image": "log:1"},
                    ]
                }
            },
        },
    }


def test_json_patch_operations_apply_in_order_without_touching_the_input() -> None:
    live = deployment()
    kept = copy.deepcopy(live)
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/env", "value": "prod"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/copy"},
        {"op": "move", "from": "/metadata/labels/copy", "path": "/metadata/labels/moved"},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "x"}},
    ]
    out = apply_json_patch(live, ops)
    assert live == kept
    assert out["spec"]["replicas"] == 3
    assert out["metadata"]["labels"] == {"app": "web", "env": "prod", "moved": "web"}
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == [
        "app", "log", "x",
    ]


def test_json_patch_replace_of_missing_member_adds_it_as_the_server_does() -> None:
    out = apply_json_patch(deployment(), [{"op": "replace", "path": "/spec/paused", "value": True}])
    assert out["spec"]["paused"] is True


def test_json_patch_negative_index_counts_from_the_end() -> None:
    ops = [{"op": "remove", "path": "/spec/template/spec/containers/-1"}]
    out = apply_json_patch(deployment(), ops)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app"]


@pytest.mark.parametrize(
    ("ops", "detail"),
    [
        (
            [{"op": "test", "path": "/spec/replicas", "value": 5}],
            "testing value /spec/replicas failed: test failed",
        ),
        (
            [{"op": "test", "path": "/spec/replicas", "value": "2"}],
            "testing value /spec/replicas failed: test failed",
        ),
        (
            [{"op": "remove", "path": "/metadata/annotations/a"}],
            'remove operation does not apply: doc is missing path: "/metadata/annotations/a": '
            "missing value",
        ),
        (
            [{"op": "remove", "path": "/metadata/labels/nope"}],
            "error in remove for path: '/metadata/labels/nope': "
            "Unable to remove nonexistent key: nope: missing value",
        ),
        (
            [{"op": "add", "path": "/status/conditions/0", "value": {}}],
            'add operation does not apply: doc is missing path: "/status/conditions/0": '
            "missing value",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/7", "value": {}}],
            "error in add for path: '/spec/template/spec/containers/7': "
            "Unable to access invalid index: 7: invalid index referenced",
        ),
        (
            [{"op": "replace", "path": "/spec/template/spec/containers/2", "value": {}}],
            "replace operation does not apply: doc is missing key: "
            "/spec/template/spec/containers/2: missing value",
        ),
        ([{"op": "frobnicate", "path": "/spec"}], "Unexpected kind: frobnicate"),
        ([{"path": "/spec"}], "Unexpected kind: unknown"),
        (
            [{"op": "add", "value": 1}],
            "add operation failed to decode path: missing value",
        ),
    ],
)
def test_json_patch_failures_are_422_with_the_library_message(
    ops: list[dict[str, Any]], detail: str
) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(deployment(), ops)
    assert caught.value.code == 422
    assert caught.value.reason == "Invalid"
    assert caught.value.message == GENERIC
    assert caught.value.detail == detail
    assert caught.value.status()["code"] == 422


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
)
def test_json_patch_that_does_not_decode_is_400(body: Any, message: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(deployment(), body)
    assert (caught.value.code, caught.value.reason, caught.value.message) == (
        400, "BadRequest", message,
    )


def test_json_patch_null_document_and_null_operation() -> None:
    assert apply_json_patch(deployment(), None) == deployment()
    with pytest.raises(PatchError) as caught:
        apply_json_patch(deployment(), [None])
    assert caught.value.detail == "Unexpected kind: unknown"


def test_json_patch_test_of_missing_member_against_null_passes() -> None:
    out = apply_json_patch(deployment(), [{"op": "test", "path": "/spec/paused", "value": None}])
    assert out == deployment()


def test_merge_patch_merges_objects_deletes_nulls_and_replaces_lists() -> None:
    patch = {
        "metadata": {"labels": {"tier": None, "env": "prod"}},
        "spec": {
            "replicas": 5,
            "template": {"spec": {"containers": [{"name": "only", "image": "o:1"}]}},
            "strategy": {"type": "Recreate", "rollingUpdate": None},
        },
    }
    live = deployment()
    out = apply_merge_patch(live, patch)
    assert live == deployment()
    assert out["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert out["spec"]["replicas"] == 5
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "only", "image": "o:1"}]
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_merge_patch_drops_nulls_inside_new_values_but_keeps_list_items() -> None:
    out = apply_merge_patch({"a": 1}, {"b": {"c": None, "d": [{"e": None, "f": 1}, None]}})
    assert out == {"a": 1, "b": {"d": [{"f": 1}, None]}}


def test_merge_patch_replaces_a_scalar_with_an_object() -> None:
    assert apply_merge_patch({"a": "x"}, {"a": {"b": None, "c": 2}}) == {"a": {"c": 2}}


@pytest.mark.parametrize("patch", [None, 5, "text", True])
def test_merge_patch_that_is_not_an_object_is_400(patch: Any) -> None:
    with pytest.raises(PatchError) as caught:
        apply_merge_patch(deployment(), patch)
    assert caught.value.code == 400
    assert caught.value.message == "Invalid JSON Patch"


def test_merge_patch_array_replaces_the_document() -> None:
    assert apply_merge_patch(deployment(), [{"a": None}]) == [{}]
