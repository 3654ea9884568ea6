"""Column: rehearsal. CustomResourceDefinition lifecycle, through the python client and kubectl.

A kind is unknown until its CRD exists; the CRD gets NamesAccepted at once and Established after
the configured delay, and only then is the kind in discovery and served. Custom resources are
validated against the CRD schema (422 naming the field), unknown fields are pruned (or refused
with Strict), strategic merge patch is 415 as for any custom resource, and deleting the CRD
deletes its custom resources.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.rehearsal.conftest import Kube

WAIT = 20.0


def _crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gizmos.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "shortNames": ["gz"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "size": {"type": "integer", "minimum": 1},
                                        "mode": {"type": "string", "enum": ["fast", "slow"], "default": "slow"},
                                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    },
                                },
                                "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


def _wait_for_kind(kube: Kube, group: str) -> float:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        status, _, _ = kube.raw("GET", f"/apis/{group}/v1")
        if status == 200:
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"{group}/v1 was never served")


def test_kind_appears_only_once_established(kube: Kube, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:6]}.rehearsal.io"
    gizmo = {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "g1"}, "spec": {"size": 2}}
    early = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(gizmo), check=False)
    assert early.returncode == 1
    assert 'no matches for kind "Gizmo"' in early.stderr
    assert kube.raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", _crd(group))[0] == 201
    assert kube.raw("GET", f"/apis/{group}/v1")[0] == 404
    _wait_for_kind(kube, group)
    crd = kube.raw("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}")[2]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": ("True", "NoConflicts"), "Established": ("True", "InitialNamesAccepted")}
    assert crd["status"]["acceptedNames"]["kind"] == "Gizmo"
    out = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(gizmo)).stdout
    assert f"gizmo.{group}/g1 created" in out
    assert kube.kubectl("get", "gz", "g1", "-n", namespace, "-o", "jsonpath={.spec.mode}").stdout == "slow"
    kube.raw("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}")


@pytest.fixture
def gizmo_group(kube: Kube) -> Any:
    group = f"g{uuid.uuid4().hex[:6]}.rehearsal.io"
    kube.raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", _crd(group))
    _wait_for_kind(kube, group)
    yield group
    kube.raw("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}")


def test_custom_resources_are_validated_and_pruned(kube: Kube, namespace: str, gizmo_group: str) -> None:
    path = f"/apis/{gizmo_group}/v1/namespaces/{namespace}/gizmos"
    bad = {
        "apiVersion": f"{gizmo_group}/v1",
        "kind": "Gizmo",
        "metadata": {"name": "bad"},
        "spec": {"size": "big", "mode": "warp"},
    }
    status, _, answer = kube.raw("POST", path, bad)
    assert status == 422
    causes = {(c["field"], c["reason"]) for c in answer["details"]["causes"]}
    assert causes == {("spec.size", "FieldValueTypeInvalid"), ("spec.mode", "FieldValueNotSupported")}
    assert answer["message"].startswith(f'Gizmo.{gizmo_group} "bad" is invalid: [')
    status, _, missing = kube.raw("POST", path, {**bad, "spec": {}})
    assert status == 422
    assert missing["details"]["causes"][0]["field"] == "spec.size"
    extra = {
        "apiVersion": f"{gizmo_group}/v1",
        "kind": "Gizmo",
        "metadata": {"name": "ok"},
        "spec": {"size": 1, "colour": "red", "extra": {"free": 1}},
    }
    status, _, strict = kube.raw("POST", path, extra, [("fieldValidation", "Strict")])
    assert status == 400
    assert 'strict decoding error: unknown field "spec.colour"' in strict["message"]
    status, headers, pruned = kube.raw("POST", path, extra)
    assert status == 201
    assert kube.warnings(headers) == '299 - "unknown field \\"spec.colour\\""'
    assert pruned["spec"] == {"size": 1, "extra": {"free": 1}, "mode": "slow"}
    assert pruned["metadata"]["generation"] == 1
    status, _, refused = kube.raw(
        "PATCH", f"{path}/ok", {"spec": {"size": 2}}, content_type="application/strategic-merge-patch+json"
    )
    assert status == 415
    assert refused["reason"] == "UnsupportedMediaType"
    status, _, merged = kube.raw(
        "PATCH",
        f"{path}/ok",
        {"spec": {"size": 2}, "status": {"ready": True}},
        content_type="application/merge-patch+json",
    )
    assert status == 200
    assert merged["spec"]["size"] == 2
    assert "status" not in merged
    assert merged["metadata"]["generation"] == 2
    status, _, with_status = kube.raw(
        "PATCH", f"{path}/ok/status", {"status": {"ready": True}}, content_type="application/merge-patch+json"
    )
    assert status == 200
    assert with_status["status"] == {"ready": True}
    assert with_status["metadata"]["generation"] == 2


def test_deleting_the_crd_deletes_its_resources(kube: Kube, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:6]}.rehearsal.io"
    kube.raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", _crd(group))
    _wait_for_kind(kube, group)
    body = {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "doomed"}, "spec": {"size": 1}}
    assert kube.raw("POST", f"/apis/{group}/v1/namespaces/{namespace}/gizmos", body)[0] == 201
    kube.kubectl("delete", "crd", f"gizmos.{group}", "--wait=true", "--timeout=20s")
    assert kube.raw("GET", f"/apis/{group}/v1")[0] == 404
    kube.raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", _crd(group))
    _wait_for_kind(kube, group)
    status, _, listed = kube.raw("GET", f"/apis/{group}/v1/namespaces/{namespace}/gizmos")
    assert status == 200
    assert listed["items"] == []
    kube.raw("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}")
