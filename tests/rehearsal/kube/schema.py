"""Schema lookup for patch strategies and server-side apply (rehearsal Kubernetes API server).

The built-in kinds come from the OpenAPI definitions that ``kubernetes-validate`` bundles
(``kubernetes-json-schema/v<version>.0-local[-strict]/_definitions.json``), keyed by their
``x-kubernetes-group-version-kind``. Custom resources come from a CRD version's
``openAPIV3Schema``. Either way a kind's schema is a tree of :class:`SchemaNode`: one node per
position in an object, carrying the field's own extensions merged with its (``$ref``-resolved) type.
Types follow the conversion kube-openapi's ``schemaconv`` does for structured-merge-diff.

Public interface
----------------
``SchemaLookup.load(version: str = "1.33", strict: bool = False) -> SchemaLookup``
    The lookup for one Kubernetes minor version, loaded once and cached. ``strict`` picks the
    ``-strict`` definitions (``additionalProperties: false`` everywhere); SSA and patching behave
    the same with either, validation differs.
``SchemaLookup.kind(api_version: str, kind: str) -> KindSchema | None``
    The built-in kind (``"apps/v1"``, ``"Deployment"``), or ``None`` when no definition carries
    that group/version/kind.
``SchemaLookup.definition(name: str) -> SchemaNode``
    A definition by its OpenAPI name (``io.k8s.api.core.v1.Container``); ``KeyError`` if unknown.
``SchemaLookup.custom_resource(open_api_v3_schema: dict, preserve_unknown_fields: bool = False)``
``-> KindSchema``
    A custom resource kind from its CRD version schema. As the apiextensions server does, the
    root gains ``apiVersion``/``kind`` strings and ``metadata`` typed as the built-in ObjectMeta.
``KindSchema.deduced() -> KindSchema`` (root ``DEDUCED``)
    What the server uses for an object of unknown GVK: maps granular all the way down, lists atomic.
``KindSchema.root: SchemaNode``; ``KindSchema.builtin: bool``;
``KindSchema.supports_strategic_merge_patch: bool``
    False for custom resources and deduced kinds: the real server answers 415 to a strategic
    merge patch for them (only json-patch, merge-patch and apply-patch are accepted).

``SchemaNode`` (read-only; children are built lazily, so recursive definitions are fine):

* ``type``: ``"object" | "array" | "string" | "integer" | "number" | "boolean" | None``;
  ``None`` is an untyped position (IntOrString, Quantity, RawExtension, schema-less JSON).
* ``shapes``: the value shapes allowed, among ``"map"``, ``"scalar"``, ``"list"``: one for typed
  positions, ``("scalar",)`` for IntOrString and Quantity, all three for untyped JSON.
* ``field(name) -> SchemaNode | None``: a declared property, else the map value type
  (``additionalProperties`` or the deduced type where unknown fields are preserved), else ``None``
  (the field is not declared: SSA rejects it, strategic merge patch treats it as a plain value).
* ``properties: Mapping[str, SchemaNode]``; ``required: tuple[str, ...]``;
  ``value_type: SchemaNode | None``;
  ``items: SchemaNode | None`` (``None`` only for non-arrays).
* ``patch_strategies: tuple[str, ...]`` (``x-kubernetes-patch-strategy`` split on ``,``:
  ``("merge",)``, ``("retainKeys",)``, ``("merge", "retainKeys")``, ``("replace",)``);
  ``patch_merge_key: str | None``.
* ``list_type``: ``"atomic" | "set" | "map"`` — the list's structured-merge-diff relationship:
  the explicit ``x-kubernetes-list-type``, else ``map`` keyed by the merge key (or ``set`` with
  no key) for ``patchStrategy: merge`` lists, else ``atomic``. ``list_map_keys: tuple[str, ...]``.
* ``map_type``: ``"granular" | "atomic"``; ``atomic`` for ``x-kubernetes-map-type: atomic``
  (e.g. LabelSelector) and for RawExtension.
* ``int_or_string: bool``; ``preserve_unknown_fields: bool``;
  ``default``: the schema default (CRDs) or, for built-ins whose bundled definitions lost their
  defaults, the defaults of associative-list keys (``protocol: TCP`` of container and service
  ports) that server-side apply needs to match list items; ``MISSING`` when there is none.
* ``name``: the definition name for ``$ref`` types, ``""`` for inline schemas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

__all__ = ["DEDUCED", "MISSING", "KindSchema", "SchemaLookup", "SchemaNode"]

MISSING: Any = object()

_REF_PREFIX = "#/$defs/"
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

# The bundled definitions dropped every ``default``; these are the ones that associative-list
# keys rely on (structured-merge-diff fills a missing key field from its default).
_BUILTIN_KEY_DEFAULTS: dict[str, dict[str, Any]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
}

_SCALAR_TYPES = ("string", "integer", "number", "boolean")
# ``format`` values schemaconv turns into an untyped scalar
_UNTYPED_STRING_FORMATS = ("int-or-string",)


def _first_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return next((t for t in declared if t != "null"), "")
    return declared or ""


class _Definitions:
    """Named schemas ``$ref`` points into."""

    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self.schemas = definitions

    def resolve(self, schema: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        ref = schema.get("$ref")
        if ref is None and len(schema.get("allOf", ())) == 1:
            ref = schema["allOf"][0].get("$ref")
        if ref is None:
            return "", schema
        name = ref.rsplit("/", 1)[-1]
        return name, self.schemas[name]


class SchemaNode:
    """One position in an object: the referencing field's extensions plus its resolved type."""

    def __init__(
        self,
        definitions: _Definitions,
        field_schema: Mapping[str, Any],
        *,
        preserve_unknown: bool = False,
        default: Any = MISSING,
        atomic_untyped: bool = False,
    ) -> None:
        self._definitions = definitions
        self._field = field_schema
        self.name, self._type_schema = definitions.resolve(field_schema)
        self._atomic_untyped = atomic_untyped or self.name == _RAW_EXTENSION
        own = self._extension("x-kubernetes-preserve-unknown-fields") is True
        self.preserve_unknown_fields = preserve_unknown or own
        if default is MISSING:
            default = field_schema.get("default", MISSING)
        self.default = default

    def __repr__(self) -> str:
        return f"SchemaNode({self.name or 'inline'}, type={self.type})"

    def _extension(self, key: str) -> Any:
        if key in self._field:
            return self._field[key]
        return self._type_schema.get(key)

    def _child(self, schema: Mapping[str, Any], default: Any = MISSING) -> SchemaNode:
        return SchemaNode(
            self._definitions,
            schema,
            preserve_unknown=self.preserve_unknown_fields,
            default=default,
            atomic_untyped=self._atomic_untyped,
        )

    @cached_property
    def type(self) -> str | None:
        if self._atomic_untyped or self.name == _QUANTITY:
            return None
        declared = _first_type(self._type_schema)
        if declared in _SCALAR_TYPES:
            if declared == "string" and self._type_schema.get("format") in _UNTYPED_STRING_FORMATS:
                return None
            return declared
        if declared in ("object", "array"):
            return declared
        return None

    @cached_property
    def shapes(self) -> tuple[str, ...]:
        """The value shapes allowed here, among ``map``, ``scalar`` and ``list``, in that order."""
        declared = self.type
        if declared == "object":
            return ("map",)
        if declared == "array":
            return ("list",)
        if declared is not None or self.name in (_QUANTITY, _INT_OR_STRING):
            return ("scalar",)
        alternatives = [*self._type_schema.get("oneOf", ()), *self._type_schema.get("anyOf", ())]
        if alternatives and all(_first_type(a) in _SCALAR_TYPES for a in alternatives):
            return ("scalar",)
        return ("map", "scalar", "list")

    @cached_property
    def int_or_string(self) -> bool:
        if self._extension("x-kubernetes-int-or-string") is True:
            return True
        if self._type_schema.get("format") == "int-or-string":
            return True
        alternatives = {_first_type(s) for s in self._type_schema.get("oneOf", ())}
        return alternatives == {"string", "integer"}

    @cached_property
    def properties(self) -> Mapping[str, SchemaNode]:
        if self.type not in ("object", None) or self._atomic_untyped:
            return {}
        key_defaults = _BUILTIN_KEY_DEFAULTS.get(self.name, {})
        declared = self._type_schema.get("properties") or {}
        return {
            name: self._child(schema, key_defaults.get(name, MISSING))
            for name, schema in declared.items()
        }

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(self._type_schema.get("required") or ())

    @cached_property
    def value_type(self) -> SchemaNode | None:
        if self.type not in ("object", None):
            return None
        if self._atomic_untyped:
            return self
        additional = self._type_schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            return self._child(additional)
        if additional is True or self.preserve_unknown_fields or not self.properties:
            if additional is False:
                return None
            return _deduced(self._definitions)
        return None

    @cached_property
    def items(self) -> SchemaNode | None:
        if self.type not in ("array", None):
            return None
        items = self._type_schema.get("items")
        if self._atomic_untyped or not isinstance(items, Mapping):
            return _untyped_atomic(self._definitions)
        return self._child(items)

    def field(self, name: str) -> SchemaNode | None:
        """The schema of ``name`` in this object: declared property, else the map value type."""
        return self.properties.get(name) or self.value_type

    @cached_property
    def patch_strategies(self) -> tuple[str, ...]:
        strategy = self._field.get("x-kubernetes-patch-strategy")
        return tuple(strategy.split(",")) if strategy else ()

    @cached_property
    def patch_merge_key(self) -> str | None:
        return self._field.get("x-kubernetes-patch-merge-key")

    @cached_property
    def list_type(self) -> str:
        explicit = self._extension("x-kubernetes-list-type")
        if self._atomic_untyped:
            return "atomic"
        if explicit in ("atomic", "set", "map"):
            return explicit
        if "merge" in self.patch_strategies:
            return "map" if self.patch_merge_key else "set"
        return "atomic"

    @cached_property
    def list_map_keys(self) -> tuple[str, ...]:
        if self.list_type != "map":
            return ()
        keys = self._extension("x-kubernetes-list-map-keys")
        if keys:
            return tuple(keys)
        return (self.patch_merge_key,) if self.patch_merge_key else ()

    @cached_property
    def map_type(self) -> str:
        if self._atomic_untyped or self._extension("x-kubernetes-map-type") == "atomic":
            return "atomic"
        return "granular"


@cache
def _deduced(definitions: _Definitions) -> SchemaNode:
    """structured-merge-diff's deduced type: granular maps all the way down, atomic lists."""
    return SchemaNode(definitions, {}, preserve_unknown=True)


@cache
def _untyped_atomic(definitions: _Definitions) -> SchemaNode:
    return SchemaNode(definitions, {}, atomic_untyped=True)


_EMPTY_DEFINITIONS = _Definitions({})
DEDUCED = _deduced(_EMPTY_DEFINITIONS)


@dataclass(frozen=True)
class KindSchema:
    """The schema of one kind, and whether strategic merge patch applies to it."""

    root: SchemaNode
    builtin: bool

    @property
    def supports_strategic_merge_patch(self) -> bool:
        return self.builtin

    @staticmethod
    def deduced() -> KindSchema:
        return KindSchema(DEDUCED, builtin=False)


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


class SchemaLookup:
    """Kinds of one Kubernetes version, keyed by group/version/kind."""

    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self._definitions = _Definitions(definitions)
        self._by_gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in definitions.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                key = (gvk.get("group", ""), gvk["version"], gvk["kind"])
                self._by_gvk.setdefault(key, name)
        self._kinds: dict[str, KindSchema] = {}

    @staticmethod
    @cache
    def load(version: str = "1.33", strict: bool = False) -> SchemaLookup:
        folder = f"v{version}.0-local" + ("-strict" if strict else "")
        path = resources.files("kubernetes_validate") / "kubernetes-json-schema" / folder
        document = json.loads((path / "_definitions.json").read_text())
        return SchemaLookup(document["$defs"])

    def definition(self, name: str) -> SchemaNode:
        if name not in self._definitions.schemas:
            raise KeyError(name)
        return SchemaNode(self._definitions, {"$ref": _REF_PREFIX + name})

    def kind(self, api_version: str, kind: str) -> KindSchema | None:
        group, version = _split_api_version(api_version)
        name = self._by_gvk.get((group, version, kind))
        if name is None:
            return None
        if name not in self._kinds:
            self._kinds[name] = KindSchema(self.definition(name), builtin=True)
        return self._kinds[name]

    def custom_resource(
        self, open_api_v3_schema: Mapping[str, Any], preserve_unknown_fields: bool = False
    ) -> KindSchema:
        root = dict(open_api_v3_schema)
        properties = dict(root.get("properties") or {})
        properties["apiVersion"] = {"type": "string"}
        properties["kind"] = {"type": "string"}
        properties["metadata"] = {"$ref": _REF_PREFIX + _OBJECT_META}
        root["properties"] = properties
        root.setdefault("type", "object")
        node = SchemaNode(self._definitions, root, preserve_unknown=preserve_unknown_fields)
        return KindSchema(node, builtin=False)
