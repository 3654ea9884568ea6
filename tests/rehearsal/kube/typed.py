"""Schema-aware walks over JSON objects, as structured-merge-diff's ``typed`` package does them.

Every function takes the object's :class:`SchemaNode`; a ``None`` node (a field the schema does
not declare, in a live object) is walked as the deduced type. ``ABSENT`` stands for Go's ``nil``
(no value at all), which is not JSON ``null``.

``validate(value, node, allow_duplicates=False) -> list[str]``
    Errors as ``typed.ValidationErrors`` words them (``.spec.foo: field not declared in schema``,
    ``.spec.replicas: expected numeric (int or float), got string``, ``duplicate entries for key
    [name="a"]``).
``list_element(node, item) -> PathElement``
    The path element of an item of an associative list (``ValueError`` if it has none).
``to_field_set(value, node) -> FieldSet``
    Every field the value sets: leaves, atomic lists and maps, associative-list items, null and
    empty-map fields, and entries of maps without declared fields.
``compare(lhs, rhs, node) -> Comparison``
    ``added``/``modified``/``removed`` field sets from ``lhs`` to ``rhs`` (``ABSENT`` allowed).
``merge(lhs, rhs, node) -> Any``
    ``rhs`` merged over ``lhs``: leaves, atomic lists and atomic maps from ``rhs``; granular maps
    key by key; associative lists item by item, in ``rhs``'s order for the items it has.
``remove_items(value, fields, node) -> Any``
    ``value`` without the fields that are members of ``fields`` (``ABSENT`` if nothing is left).
``ensure_named_fields(fields, node) -> FieldSet``
    ``fields`` where every declared struct field with children is also a member.
``without_applied_nulls(value, applied, node) -> Any``
    ``value`` without the map entries ``applied`` set to ``null`` (decoding into the typed
    object drops them; associative-list items are matched on their keys).
``zero_object(node) -> dict``
    The live object a create starts from: what an empty Go struct of a built-in kind encodes to
    (non-pointer structs ``{}``, required lists and maps ``null``); ``{}`` for inline (custom
    resource) and deduced schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fieldpath import FieldSet, Path, PathElement, element_string, freeze
from .gofmt import go_type, go_value
from .schema import DEDUCED, MISSING, SchemaNode

__all__ = [
    "ABSENT",
    "Comparison",
    "compare",
    "ensure_named_fields",
    "list_element",
    "merge",
    "remove_items",
    "to_field_set",
    "validate",
    "without_applied_nulls",
    "zero_object",
]

ABSENT: Any = object()


def _node(node: SchemaNode | None) -> SchemaNode:
    return DEDUCED if node is None else node


def _shape(node: SchemaNode, value: Any) -> str:
    """Which of the node's atoms handles the value (``deduceAtom``)."""
    if isinstance(value, dict):
        natural = "map"
    elif isinstance(value, list):
        natural = "list"
    elif value is None or value is ABSENT:
        return node.shapes[0]
    else:
        natural = "scalar"
    return natural if natural in node.shapes else node.shapes[0]


def _associative(node: SchemaNode) -> bool:
    return node.list_type != "atomic"


def _same(left: Any, right: Any) -> bool:
    return freeze(left) == freeze(right)


def _child(node: SchemaNode, key: str) -> tuple[SchemaNode, bool]:
    """The type of a map entry, and whether it is a declared field."""
    declared = node.properties.get(key)
    if declared is not None:
        return declared, True
    return _node(node.value_type), False


def _go_quoted(names: tuple[str, ...]) -> str:
    return "[" + " ".join(f'"{n}"' for n in names) + "]"


def list_element(node: SchemaNode, item: Any) -> PathElement:
    keys = node.list_map_keys
    if node.list_type == "map" and keys:
        if item is None:
            raise ValueError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise ValueError("associative list with keys may not have non-map elements")
        fields = []
        item_node = _node(node.items)
        for key in keys:
            if key in item:
                fields.append((key, freeze(item[key])))
                continue
            field = item_node.properties.get(key)
            default = field.default if field is not None else MISSING
            if default is not MISSING and default is not None:
                fields.append((key, freeze(default)))
        if not fields:
            raise ValueError(
                f"associative list with keys has an element that omits all key fields "
                f"{_go_quoted(keys)} (and doesn't have default values for any key fields)"
            )
        return ("k", tuple(sorted(fields, key=lambda f: f[0])))
    if isinstance(item, dict):
        raise ValueError("associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise ValueError("not supported: associative list with lists as elements")
    if item is None:
        raise ValueError("associative list without keys has an element that's an explicit null")
    return ("v", freeze(item))


def _described(value: Any) -> str:
    return "&{" + go_value(value) + "}"


def _scalar_error(node: SchemaNode, value: Any) -> str | None:
    if value is None:
        return None
    kind = node.type
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected numeric (int or float), got {go_type(value)}"
    elif kind == "string":
        if not isinstance(value, str):
            return f"expected string, got &value.valueUnstructured{{Value:{go_value(value)}}}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"expected boolean, got {_described(value)}"
    elif isinstance(value, dict | list):
        return f"expected any scalar, got {_described(value)}"
    return None


def _error(path: Path, message: str) -> str:
    prefix = "".join(element_string(e) for e in path)
    return f"{prefix}: {message}" if prefix else message


def validate(value: Any, node: SchemaNode, allow_duplicates: bool = False) -> list[str]:
    errors: list[str] = []
    _validate(value, node, (), allow_duplicates, errors)
    return errors


def _validate(
    value: Any, node: SchemaNode, path: Path, allow_duplicates: bool, errors: list[str]
) -> None:
    shape = _shape(node, value)
    if shape == "scalar":
        message = _scalar_error(node, value)
        if message:
            errors.append(_error(path, message))
        return
    if value is None:
        return
    if shape == "list":
        if not isinstance(value, list):
            errors.append(_error(path, f"expected list, got {_described(value)}"))
            return
        seen: set[PathElement] = set()
        for index, item in enumerate(value):
            element: PathElement = ("i", index)
            if _associative(node):
                try:
                    element = list_element(node, item)
                except ValueError as exc:
                    errors.append(_error(path, f"element {index}: {exc}"))
                    return
                if element in seen and not allow_duplicates:
                    errors.append(
                        _error(path, f"duplicate entries for key {element_string(element)}")
                    )
                seen.add(element)
            _validate(item, _node(node.items), (*path, element), allow_duplicates, errors)
        return
    if not isinstance(value, dict):
        errors.append(_error(path, f"expected map, got {_described(value)}"))
        return
    for key, item in value.items():
        declared = node.properties.get(key)
        if declared is None and node.value_type is None:
            errors.append(_error((*path, ("f", key)), "field not declared in schema"))
            return
        child = declared if declared is not None else node.value_type
        _validate(item, _node(child), (*path, ("f", key)), allow_duplicates, errors)


def _elements(node: SchemaNode, items: list[Any]) -> list[tuple[PathElement | None, Any]]:
    out: list[tuple[PathElement | None, Any]] = []
    for item in items:
        try:
            out.append((list_element(node, item), item))
        except ValueError:
            out.append((None, item))
    return out


def to_field_set(value: Any, node: SchemaNode) -> FieldSet:
    paths: list[Path] = []
    _field_set(value, node, (), paths)
    return FieldSet.of(paths)


def _field_set(value: Any, node: SchemaNode, path: Path, out: list[Path]) -> None:
    shape = _shape(node, value)
    if shape == "scalar":
        out.append(path)
    elif shape == "list":
        if node.list_type == "atomic":
            out.append(path)
            return
        if not isinstance(value, list):
            return
        elements = [(e, item) for e, item in _elements(node, value) if e is not None]
        seen: set[PathElement] = set()
        duplicates: set[PathElement] = set()
        for element, _ in elements:
            if element in seen and element not in duplicates:
                duplicates.add(element)
                out.append((*path, element))
            seen.add(element)
        for element, item in elements:
            if element in duplicates:
                continue
            _field_set(item, _node(node.items), (*path, element), out)
            out.append((*path, element))
    else:
        if node.map_type == "atomic":
            out.append(path)
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            child, declared = _child(node, key)
            field_path = (*path, ("f", key))
            _field_set(item, child, field_path, out)
            if item is None or item == {} or not declared:
                out.append(field_path)


@dataclass(frozen=True)
class Comparison:
    added: FieldSet
    modified: FieldSet
    removed: FieldSet


class _Comparer:
    def __init__(self) -> None:
        self.added: list[Path] = []
        self.modified: list[Path] = []
        self.removed: list[Path] = []

    def leaf(self, lhs: Any, rhs: Any, path: Path) -> bool:
        if lhs is ABSENT:
            self.added.append(path)
        elif rhs is ABSENT:
            self.removed.append(path)
        elif not _same(lhs, rhs):
            self.modified.append(path)
        return True

    def walk(self, lhs: Any, rhs: Any, node: SchemaNode, path: Path) -> None:
        if rhs is ABSENT:
            in_leaf = self.handle(_shape(node, lhs), lhs, rhs, node, path)
        elif lhs is ABSENT or _shape(node, lhs) == _shape(node, rhs):
            in_leaf = self.handle(_shape(node, rhs), lhs, rhs, node, path)
        else:
            self.handle(_shape(node, lhs), lhs, rhs, node, path)
            in_leaf = self.handle(_shape(node, rhs), lhs, rhs, node, path)
        if not in_leaf:
            if lhs is ABSENT:
                self.added.append(path)
            elif rhs is ABSENT:
                self.removed.append(path)

    def handle(self, shape: str, lhs: Any, rhs: Any, node: SchemaNode, path: Path) -> bool:
        if shape == "scalar":
            return self.leaf(lhs, rhs, path)
        if shape == "list":
            left = lhs if isinstance(lhs, list) else None
            right = rhs if isinstance(rhs, list) else None
            if node.list_type == "atomic" or (not left and not right):
                return self.leaf(lhs, rhs, path)
            self.items(node, left or [], right or [], path)
            return False
        left = lhs if isinstance(lhs, dict) else None
        right = rhs if isinstance(rhs, dict) else None
        if node.map_type == "atomic" or (not left and not right):
            return self.leaf(lhs, rhs, path)
        left, right = left or {}, right or {}
        for key in [*left, *(k for k in right if k not in left)]:
            child, _ = _child(node, key)
            self.walk(left.get(key, ABSENT), right.get(key, ABSENT), child, (*path, ("f", key)))
        return False

    def items(self, node: SchemaNode, lhs: list[Any], rhs: list[Any], path: Path) -> None:
        order: list[PathElement] = []
        left: dict[PathElement, list[Any]] = {}
        right: dict[PathElement, list[Any]] = {}
        for side, items in ((left, lhs), (right, rhs)):
            for element, item in _elements(node, items):
                if element is None:
                    continue
                if element not in left and element not in right:
                    order.append(element)
                side.setdefault(element, []).append(item)
        item_node = _node(node.items)
        for element in order:
            before, after = left.get(element, []), right.get(element, [])
            item_path = (*path, element)
            if len(before) <= 1 and len(after) <= 1:
                self.walk(before[0] if before else ABSENT, after[0] if after else ABSENT,
                          item_node, item_path)
            elif len(before) >= 2 and len(after) >= 2:
                if len(before) != len(after) or not all(map(_same, before, after)):
                    self.modified.append(item_path)
            elif len(before) >= 2:
                if after:
                    self.walk(ABSENT, after[0], item_node, item_path)
                self.removed.append(item_path)
            else:
                if before:
                    self.walk(before[0], ABSENT, item_node, item_path)
                self.added.append(item_path)


def compare(lhs: Any, rhs: Any, node: SchemaNode) -> Comparison:
    comparer = _Comparer()
    comparer.walk(lhs, rhs, node, ())
    return Comparison(
        FieldSet.of(comparer.added), FieldSet.of(comparer.modified), FieldSet.of(comparer.removed)
    )


def merge(lhs: Any, rhs: Any, node: SchemaNode) -> Any:
    """``rhs`` merged over ``lhs`` (``ABSENT`` when neither has anything)."""
    shape = _shape(node, lhs if rhs is ABSENT else rhs)
    keep_rhs = rhs if rhs is not ABSENT else lhs
    if shape == "scalar":
        return keep_rhs
    if shape == "list":
        left = lhs if isinstance(lhs, list) else None
        right = rhs if isinstance(rhs, list) else None
        if node.list_type == "atomic" or (not left and not right):
            return keep_rhs
        merged = _merge_items(node, left or [], right or [])
        return merged if merged else ABSENT
    left = lhs if isinstance(lhs, dict) else None
    right = rhs if isinstance(rhs, dict) else None
    if node.map_type == "atomic" or (not left and not right):
        return keep_rhs
    left, right = left or {}, right or {}
    out: dict[str, Any] = {}
    for key in [*left, *(k for k in right if k not in left)]:
        child, _ = _child(node, key)
        value = merge(left.get(key, ABSENT), right.get(key, ABSENT), child)
        if value is not ABSENT:
            out[key] = value
    return out if out else ABSENT


def _index(node: SchemaNode, items: list[Any], allow_duplicates: bool) -> tuple[
    list[PathElement], dict[PathElement, Any]
]:
    elements: list[PathElement] = []
    observed: dict[PathElement, Any] = {}
    for index, item in enumerate(items):
        try:
            element = list_element(node, item)
        except ValueError as exc:
            raise ValueError(f"element {index}: {exc}") from exc
        if element in observed:
            if not allow_duplicates:
                raise ValueError(f"duplicate entries for key {element_string(element)}")
            observed[element] = None
        else:
            observed[element] = item
        elements.append(element)
    return elements, observed


def _merge_items(node: SchemaNode, lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """structured-merge-diff's list merge: shared items follow ``rhs``'s order."""
    rhs_elements, observed_rhs = _index(node, rhs, allow_duplicates=False)
    lhs_elements, observed_lhs = _index(node, lhs, allow_duplicates=True)
    shared = [e for e in rhs_elements if e in observed_lhs]
    item_node = _node(node.items)
    out: list[Any] = []
    merged_rhs: set[PathElement] = set()

    def take(left: Any, right: Any) -> None:
        value = merge(left, right, item_node)
        if value is not ABSENT:
            out.append(value)

    def next_shared() -> PathElement | None:
        return shared.pop(0) if shared else None

    upcoming = next_shared()
    li = ri = 0
    while li < len(lhs_elements) or ri < len(rhs_elements):
        if li < len(lhs_elements) and ri < len(rhs_elements):
            element = lhs_elements[li]
            if element == rhs_elements[ri]:
                merged_rhs.add(element)
                take(observed_lhs[element], observed_rhs[element])
                li, ri = li + 1, ri + 1
                upcoming = next_shared()
                continue
            if element in observed_rhs and upcoming is not None and upcoming != element:
                li += 1
                continue
        if li < len(lhs_elements):
            element = lhs_elements[li]
            if element not in observed_rhs:
                take(lhs[li], ABSENT)
                li += 1
                continue
            if element in merged_rhs:
                li += 1
        if ri < len(rhs_elements):
            element = rhs_elements[ri]
            merged_rhs.add(element)
            take(observed_lhs.get(element, ABSENT), observed_rhs[element])
            ri += 1
            if upcoming is not None and upcoming == element:
                upcoming = next_shared()
    return out


def remove_items(value: Any, fields: FieldSet, node: SchemaNode) -> Any:
    """``value`` without the members of ``fields``; emptied maps and lists become ``ABSENT``."""
    shape = _shape(node, value)
    if shape == "list" and isinstance(value, list) and value and _associative(node):
        kept = []
        item_node = _node(node.items)
        for element, item in _elements(node, value):
            if element is not None and fields.has((element,)):
                continue
            below = fields.child(element) if element is not None else FieldSet()
            if not below.empty():
                item = remove_items(item, below, item_node)
            if item is not ABSENT:
                kept.append(item)
        return kept if kept else ABSENT
    if shape == "map" and isinstance(value, dict) and value and node.map_type != "atomic":
        out: dict[str, Any] = {}
        for key, item in value.items():
            element: PathElement = ("f", key)
            if fields.has((element,)):
                continue
            below = fields.child(element)
            if not below.empty():
                item = remove_items(item, below, _child(node, key)[0])
            if item is not ABSENT:
                out[key] = item
        return out if out else ABSENT
    return value


def ensure_named_fields(fields: FieldSet, node: SchemaNode | None) -> FieldSet:
    members = set(fields.members)
    children: dict[PathElement, FieldSet] = {}
    for element, below in fields.children.items():
        child: SchemaNode | None = None
        if node is not None and element[0] == "f" and "map" in node.shapes:
            child = node.properties.get(element[1])
            if child is not None:
                members.add(element)
            else:
                child = node.value_type
        elif node is not None and element[0] == "k" and "list" in node.shapes:
            child = node.items
        children[element] = ensure_named_fields(below, child)
    return FieldSet(members, children)


def _keyed(node: SchemaNode, items: list[Any]) -> dict[PathElement, Any]:
    return {element: item for element, item in _elements(node, items) if element is not None}


def without_applied_nulls(value: Any, applied: Any, node: SchemaNode) -> Any:
    if isinstance(value, dict) and isinstance(applied, dict):
        out = dict(value)
        for key, item in applied.items():
            if key not in out:
                continue
            if item is None and out[key] is None:
                del out[key]
            else:
                out[key] = without_applied_nulls(out[key], item, _child(node, key)[0])
        return out
    if isinstance(value, list) and isinstance(applied, list) and node.list_type == "map":
        wanted = _keyed(node, applied)
        item_node = _node(node.items)
        return [
            without_applied_nulls(item, wanted[element], item_node)
            if element is not None and element in wanted
            else item
            for element, item in _elements(node, value)
        ]
    return value


_ALWAYS_PRESENT = ("metadata", "spec", "status")
# Optional struct fields the Go types hold by value (not pointer), so an empty object has them.
_VALUE_STRUCTS = {
    "io.k8s.api.apps.v1.DeploymentSpec": ("strategy",),
    "io.k8s.api.apps.v1.ReplicaSetSpec": ("template",),
    "io.k8s.api.apps.v1.DaemonSetSpec": ("updateStrategy",),
    "io.k8s.api.apps.v1.StatefulSetSpec": ("updateStrategy",),
}


def _struct(node: SchemaNode) -> bool:
    return node.shapes == ("map",) and bool(node.properties) and node.value_type is None


def zero_object(node: SchemaNode, depth: int = 0) -> dict[str, Any]:
    if not node.name or depth > 16:
        return {}
    out: dict[str, Any] = {}
    for name, child in node.properties.items():
        required = name in node.required
        by_value = name in _ALWAYS_PRESENT or name in _VALUE_STRUCTS.get(node.name, ())
        if _struct(child) and (required or by_value):
            out[name] = zero_object(child, depth + 1)
        elif required and child.shapes in (("map",), ("list",)):
            out[name] = None
    return out

