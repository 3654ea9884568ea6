"""The k8s_needs_apply filter decides when the roles write to the cluster.

Column: real (pure function of the filter plugin the roles gate their applies with).
"""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from plugins.filter.k8s_needs_apply import LAST_APPLIED, k8s_needs_apply

MANIFEST = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "model", "namespace": "house-price", "labels": {"app": "model"}},
    "spec": {
        "type": "NodePort",
        "ports": [{"name": "http", "port": 8000, "nodePort": 30100}],
        "selector": {"app": "model"},
    },
}


def live(manifest: dict, applied: dict | None = None, **changes: object) -> dict:
    """What the server holds after applying ``applied``: defaults and status added, ``changes`` on top."""
    obj = json.loads(json.dumps(manifest))
    obj["metadata"].update(uid="1", resourceVersion="7", annotations={LAST_APPLIED: json.dumps(applied or manifest)})
    obj["spec"].update(clusterIP="127.12.0.9", sessionAffinity="None")
    obj["spec"]["ports"][0].update(protocol="TCP", targetPort=8000)
    obj["status"] = {"loadBalancer": {}}
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = obj
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(leaf) if leaf.isdigit() else leaf] = value
    return obj


def test_unchanged_object_with_server_defaults_needs_no_apply() -> None:
    assert k8s_needs_apply([live(MANIFEST)], MANIFEST) is False


def test_missing_object_needs_apply() -> None:
    assert k8s_needs_apply([], MANIFEST) is True


def test_a_changed_manifest_needs_apply() -> None:
    changed = json.loads(json.dumps(MANIFEST))
    changed["spec"]["ports"][0]["nodePort"] = 30101
    assert k8s_needs_apply([live(MANIFEST)], changed) is True


def test_a_field_removed_from_the_manifest_needs_apply_though_live_still_contains_the_rest() -> None:
    with_label = json.loads(json.dumps(MANIFEST))
    with_label["metadata"]["labels"]["tier"] = "api"
    assert k8s_needs_apply([live(with_label)], MANIFEST) is True


def test_drift_made_by_someone_else_needs_apply() -> None:
    assert k8s_needs_apply([live(MANIFEST, spec__type="ClusterIP")], MANIFEST) is True
    assert k8s_needs_apply([live(MANIFEST, spec__ports__0__port=9000)], MANIFEST) is True


def test_an_object_never_applied_this_way_needs_apply() -> None:
    obj = live(MANIFEST)
    del obj["metadata"]["annotations"][LAST_APPLIED]
    assert k8s_needs_apply(obj, MANIFEST) is True


def test_booleans_never_equal_numbers() -> None:
    manifest = {"kind": "X", "metadata": {"name": "x"}, "spec": {"enabled": True}}
    obj = {
        "kind": "X",
        "metadata": {"name": "x", "annotations": {LAST_APPLIED: json.dumps(manifest)}},
        "spec": {"enabled": 1},
    }
    assert k8s_needs_apply(obj, manifest) is True


def test_several_objects_are_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="one object"):
        k8s_needs_apply([live(MANIFEST), live(MANIFEST)], MANIFEST)
