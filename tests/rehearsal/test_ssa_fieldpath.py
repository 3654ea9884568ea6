"""Field sets and managedFields encoding of the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/fieldpath.py and managed.py: FieldsV1 as the real server
writes it (element order, ``.`` markers, key encoding) and managedFields entries as it sorts them.
"""

from __future__ import annotations

import json

import pytest

from tests.rehearsal.kube.fieldpath import FieldSet, freeze, parse_element, path_string
from tests.rehearsal.kube.managed import ManagerId, Owned, decode, encode

CONTAINER = ("k", (("name", freeze("app")),))
PORT = ("k", (("containerPort", freeze(80)), ("protocol", freeze("TCP"))))


def sample() -> FieldSet:
    spec = ("f", "spec")
    containers = (spec, ("f", "template"), ("f", "spec"), ("f", "containers"))
    return FieldSet.of([
        (spec, ("f", "replicas")),
        (*containers, CONTAINER),
        (*containers, CONTAINER, ("f", "image")),
        (*containers, CONTAINER, ("f", "ports"), PORT),
        (*containers, CONTAINER, ("f", "ports"), PORT, ("f", "containerPort")),
        (("f", "metadata"), ("f", "finalizers"), ("v", freeze("a/b"))),
        (("f", "spec"), ("f", "args"), ("i", 0)),
    ])


def test_fields_v1_layout_and_order() -> None:
    fields = sample().to_fields_v1()
    assert json.dumps(fields, separators=(",", ":")) == (
        '{"f:metadata":{"f:finalizers":{"v:\\"a/b\\"":{}}},'
        '"f:spec":{"f:args":{"i:0":{}},"f:replicas":{},"f:template":{"f:spec":{"f:containers":'
        '{"k:{\\"name\\":\\"app\\"}":{".":{},"f:image":{},"f:ports":'
        '{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}'
    )


def test_fields_v1_round_trip() -> None:
    assert FieldSet.from_fields_v1(sample().to_fields_v1()) == sample()


def test_element_kinds_sort_fields_keys_values_indices() -> None:
    mixed = FieldSet.of([
        (("i", 1),), (("v", freeze("x")),), (CONTAINER,), (("f", "z"),), (("v", freeze(2)),),
    ])
    assert list(mixed.to_fields_v1()) == ['f:z', 'k:{"name":"app"}', "v:2", 'v:"x"', "i:1"]


def test_unknown_element_types_are_skipped_and_malformed_ones_rejected() -> None:
    assert FieldSet.from_fields_v1({"x:y": {}, "f:a": {}}) == FieldSet.of([(("f", "a"),)])
    with pytest.raises(ValueError):
        parse_element("nonsense")


def test_path_strings_as_conflict_messages_print_them() -> None:
    path = (("f", "spec"), ("f", "ports"), PORT, ("f", "targetPort"))
    assert path_string(path) == '.spec.ports[containerPort=80,protocol="TCP"].targetPort'
    assert path_string((("f", "list"), ("v", freeze("a")), ("i", 3))) == '.list[="a"][3]'


def test_set_algebra() -> None:
    spec = ("f", "spec")
    a = FieldSet.of([(spec, ("f", "x")), (spec, ("f", "y")), (spec,)])
    b = FieldSet.of([(spec, ("f", "y")), (spec, ("f", "z"))])
    assert a.union(b) == FieldSet.of([(spec,), *((spec, ("f", n)) for n in "xyz")])
    assert a.intersection(b) == FieldSet.of([(spec, ("f", "y"))])
    assert a.difference(b) == FieldSet.of([(spec,), (spec, ("f", "x"))])
    assert b.difference(FieldSet.of([(spec,)])) == b
    assert b.recursive_difference(FieldSet.of([(spec,)])).empty()
    assert a.has((spec, ("f", "x"))) and not a.has((spec, ("f", "z")))
    assert [path_string(p) for p in a.paths()] == [".spec", ".spec.x", ".spec.y"]


def test_true_and_one_are_different_values() -> None:
    assert freeze(True) != freeze(1)
    assert freeze(1) == freeze(1.0)


def test_managed_fields_decode_encode_and_sort() -> None:
    fields = {"f:spec": {"f:replicas": {}}}
    entries = [
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
         "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields},
        {"manager": "zeta", "operation": "Update", "apiVersion": "apps/v1",
         "time": "2024-05-01T09:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields},
        {"manager": "alpha", "operation": "Update", "apiVersion": "apps/v1",
         "time": "2024-05-01T11:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields,
         "subresource": "status"},
    ]
    managers = decode(entries)
    assert ManagerId("kubectl", "Apply") in managers
    assert ManagerId("zeta", "Update", "apps/v1") in managers
    assert ManagerId("alpha", "Update", "apps/v1", "status") in managers
    out = encode(managers)
    assert [e["manager"] for e in out] == ["kubectl", "zeta", "alpha"]
    assert list(out[2]) == [
        "manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource",
    ]
    assert out == entries


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"manager": "m", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"},
         "operation must be `Apply` or `Update`"),
        ({"manager": "m", "operation": "Update", "fieldsType": "FieldsV1"},
         "apiVersion must not be empty"),
        ({"manager": "m", "operation": "Update", "apiVersion": "v1"},
         "missing fieldsType in managed fields entry 0"),
    ],
)
def test_invalid_managed_fields_entries(entry: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("`", ".")):
        decode([entry])


def test_manager_descriptions_for_conflict_messages() -> None:
    assert ManagerId.of("kubectl", "Apply", "apps/v1", "").describe() == '"kubectl"'
    update = ManagerId.of("", "Update", "apps/v1", "status")
    assert update.describe() == '"unknown" with subresource "status" using apps/v1'
    assert encode({update: Owned(FieldSet(), "apps/v1")})[0]["subresource"] == "status"
