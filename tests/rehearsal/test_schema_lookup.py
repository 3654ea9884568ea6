"""Schema lookup of the rehearsal Kubernetes API server (column: rehearsal).

Pure unit tests of tests/rehearsal/kube/schema.py: the patch strategies and list/map types the
real server reads from its OpenAPI models, here read from kubernetes-validate's bundled 1.33
definitions and from a CRD's structural schema.
"""

from __future__ import annotations

import pytest

from tests.rehearsal.kube.schema import MISSING, KindSchema, SchemaLookup


@pytest.fixture(scope="module")
def lookup() -> SchemaLookup:
    return SchemaLookup.load("1.33")


def test_deployment_containers_merge_by_name(lookup: SchemaLookup) -> None:
    kind = lookup.kind("apps/v1", "Deployment")
    assert kind is not None and kind.supports_strategic_merge_patch
    containers = kind.root.field("spec").field("template").field("spec").field("containers")
    assert containers.type == "array"
    assert containers.patch_strategies == ("merge",)
    assert containers.patch_merge_key == "name"
    assert containers.list_type == "map"
    assert containers.list_map_keys == ("name",)
    assert containers.items.name == "io.k8s.api.core.v1.Container"


def test_container_ports_keyed_by_port_and_protocol_with_default(lookup: SchemaLookup) -> None:
    ports = lookup.definition("io.k8s.api.core.v1.Container").field("ports")
    assert ports.patch_merge_key == "containerPort"
    assert ports.list_map_keys == ("containerPort", "protocol")
    assert ports.items.field("protocol").default == "TCP"
    assert ports.items.field("containerPort").default is MISSING
    service_ports = lookup.definition("io.k8s.api.core.v1.ServiceSpec").field("ports")
    assert service_ports.list_map_keys == ("port", "protocol")
    assert service_ports.items.field("protocol").default == "TCP"


def test_retain_keys_strategies(lookup: SchemaLookup) -> None:
    strategy = lookup.definition("io.k8s.api.apps.v1.DeploymentSpec").field("strategy")
    assert strategy.patch_strategies == ("retainKeys",)
    assert strategy.type == "object"
    volumes = lookup.definition("io.k8s.api.core.v1.PodSpec").field("volumes")
    assert volumes.patch_strategies == ("merge", "retainKeys")
    assert volumes.list_type == "map"


def test_atomic_and_granular_maps(lookup: SchemaLookup) -> None:
    spec = lookup.definition("io.k8s.api.apps.v1.DeploymentSpec")
    assert spec.field("selector").map_type == "atomic"
    labels = lookup.definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").field("labels")
    assert labels.map_type == "granular"
    assert labels.properties == {}
    assert labels.field("app").type == "string"
    assert lookup.definition("io.k8s.api.core.v1.ServiceSpec").field("selector").map_type == (
        "atomic"
    )


def test_list_types(lookup: SchemaLookup) -> None:
    container = lookup.definition("io.k8s.api.core.v1.Container")
    assert container.field("args").list_type == "atomic"
    finalizers = lookup.definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").field(
        "finalizers"
    )
    assert finalizers.list_type == "set"
    assert finalizers.patch_strategies == ("merge",)
    assert finalizers.patch_merge_key is None


def test_int_or_string_and_quantity_are_untyped_scalars(lookup: SchemaLookup) -> None:
    port = lookup.definition("io.k8s.api.core.v1.ServicePort").field("targetPort")
    assert port.int_or_string
    assert port.type is None
    assert port.shapes == ("scalar",)
    limits = lookup.definition("io.k8s.api.core.v1.ResourceRequirements").field("limits")
    assert limits.field("cpu").shapes == ("scalar",)
    assert not limits.field("cpu").int_or_string


def test_raw_extension_is_atomic_and_untyped(lookup: SchemaLookup) -> None:
    raw = lookup.definition("io.k8s.apimachinery.pkg.runtime.RawExtension")
    assert raw.type is None
    assert raw.map_type == "atomic"
    assert raw.items.list_type == "atomic"


def test_undeclared_field_of_a_struct_is_none(lookup: SchemaLookup) -> None:
    assert lookup.kind("v1", "ConfigMap").root.field("spec") is None


def test_unknown_kind_and_deduced_schema(lookup: SchemaLookup) -> None:
    assert lookup.kind("example.com/v1", "Widget") is None
    deduced = KindSchema.deduced()
    assert not deduced.supports_strategic_merge_patch
    nested = deduced.root.field("spec").field("anything")
    assert nested.map_type == "granular"
    assert nested.list_type == "atomic"
    assert nested.shapes == ("map", "scalar", "list")


def test_core_group_kinds(lookup: SchemaLookup) -> None:
    service = lookup.kind("v1", "Service")
    assert service is not None
    assert service.root.name == "io.k8s.api.core.v1.Service"
    assert lookup.kind("apps/v1", "Service") is None


CRD_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "endpoints": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port"],
                    "items": {
                        "type": "object",
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "default": "/metrics"},
                        },
                    },
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "selector": {"type": "object", "x-kubernetes-map-type": "atomic"},
                "port": {"x-kubernetes-int-or-string": True},
            },
        }
    },
}


def test_custom_resource_schema(lookup: SchemaLookup) -> None:
    kind = lookup.custom_resource(CRD_SCHEMA)
    assert not kind.supports_strategic_merge_patch
    spec = kind.root.field("spec")
    endpoints = spec.field("endpoints")
    assert endpoints.list_type == "map"
    assert endpoints.list_map_keys == ("port",)
    assert endpoints.patch_strategies == ()
    assert endpoints.items.field("path").default == "/metrics"
    assert spec.field("selector").map_type == "atomic"
    assert spec.field("port").int_or_string
    assert spec.field("undeclared") is None
    assert spec.field("extra").field("free").field("form").map_type == "granular"
    labels = kind.root.field("metadata").field("labels")
    assert labels.field("app").type == "string"
    assert kind.root.field("kind").type == "string"


def test_strict_definitions_load_with_the_same_patch_metadata() -> None:
    strict = SchemaLookup.load("1.33", strict=True)
    assert strict is SchemaLookup.load("1.33", strict=True)
    assert strict is not SchemaLookup.load("1.33")
    containers = strict.definition("io.k8s.api.core.v1.PodSpec").field("containers")
    assert containers.patch_merge_key == "name"
    assert strict.definition("io.k8s.api.core.v1.Container").field("nope") is None
