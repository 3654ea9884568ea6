"""What mlmon.monitoring.k8s_apply decides (write or not) and shows (the diff) for one object.

Column: real (pure functions of the module_utils the module runs; the module itself runs on kind in the roles).
"""

from __future__ import annotations

import json

from plugins.module_utils.k8s_apply import HIDDEN_VALUE, LAST_APPLIED, needs_apply, preview

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
    assert needs_apply(live(MANIFEST), MANIFEST) is False


def test_missing_object_needs_apply() -> None:
    assert needs_apply(None, MANIFEST) is True


def test_a_changed_manifest_needs_apply() -> None:
    changed = json.loads(json.dumps(MANIFEST))
    changed["spec"]["ports"][0]["nodePort"] = 30101
    assert needs_apply(live(MANIFEST), changed) is True


def test_a_field_removed_from_the_manifest_needs_apply_though_live_still_contains_the_rest() -> None:
    with_label = json.loads(json.dumps(MANIFEST))
    with_label["metadata"]["labels"]["tier"] = "api"
    assert needs_apply(live(with_label), MANIFEST) is True


def test_drift_made_by_someone_else_needs_apply() -> None:
    assert needs_apply(live(MANIFEST, spec__type="ClusterIP"), MANIFEST) is True
    assert needs_apply(live(MANIFEST, spec__ports__0__port=9000), MANIFEST) is True


def test_an_object_never_applied_this_way_needs_apply() -> None:
    obj = live(MANIFEST)
    del obj["metadata"]["annotations"][LAST_APPLIED]
    assert needs_apply(obj, MANIFEST) is True


def test_booleans_never_equal_numbers() -> None:
    manifest = {"kind": "X", "metadata": {"name": "x"}, "spec": {"enabled": True}}
    obj = {
        "kind": "X",
        "metadata": {"name": "x", "annotations": {LAST_APPLIED: json.dumps(manifest)}},
        "spec": {"enabled": 1},
    }
    assert needs_apply(obj, manifest) is True


def test_the_preview_holds_only_what_the_manifest_sets() -> None:
    """No server defaults, status, uid, resourceVersion or last-applied annotation: only the changed port."""
    changed = json.loads(json.dumps(MANIFEST))
    changed["spec"]["ports"][0]["nodePort"] = 30101
    diff = preview(live(MANIFEST), changed)
    assert diff["after"] == changed
    assert diff["before"] == MANIFEST
    assert diff["before_header"] == "Service/house-price/model (live)"


def test_the_preview_shows_a_field_removed_from_the_manifest() -> None:
    with_label = json.loads(json.dumps(MANIFEST))
    with_label["metadata"]["labels"]["tier"] = "api"
    diff = preview(live(with_label), MANIFEST)
    assert diff["before"]["metadata"]["labels"] == {"app": "model", "tier": "api"}
    assert diff["after"]["metadata"]["labels"] == {"app": "model"}


def test_the_preview_of_a_missing_object_is_the_manifest() -> None:
    diff = preview(None, MANIFEST)
    assert diff["before"] == {}
    assert diff["after"] == MANIFEST
    assert diff["before_header"].endswith("(absent)")


def test_a_secret_value_never_shows_in_the_preview() -> None:
    """Only whether each key differs is shown, never the (base64) value."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "m"},
        "data": {"admin-user": "YWRtaW4=", "admin-password": "bmV3"},
    }
    old = json.loads(json.dumps(secret))
    old["data"]["admin-password"] = "b2xk"
    old["metadata"]["annotations"] = {LAST_APPLIED: json.dumps({**old, "metadata": secret["metadata"]})}
    diff = preview(old, secret)
    text = json.dumps(diff)
    assert "bmV3" not in text and "b2xk" not in text and "YWRtaW4=" not in text
    assert diff["before"]["data"]["admin-user"] == HIDDEN_VALUE
    assert diff["after"]["data"]["admin-password"] == f"{HIDDEN_VALUE}, differs"
