"""Field paths and sets of them, as sigs.k8s.io/structured-merge-diff ``fieldpath`` models them.

A path element is one of (tuples, hashable, with JSON values frozen by :func:`freeze`):

* ``("f", name)``: a field of a map or struct (``f:name`` in FieldsV1, ``.name`` in messages);
* ``("k", ((field, frozen value), ...))``: an associative-list item by its key fields, sorted by
  field name (``k:{"name":"app"}``, ``[name="app"]``);
* ``("v", frozen value)``: an item of a set-list (``v:"x"``, ``[="x"]``);
* ``("i", index)``: an item of a list by position (``i:0``, ``[0]``).

:class:`FieldSet` is the trie ``fieldpath.Set`` is: ``members`` are the elements that belong
to the set themselves, ``children`` the sub-sets under an element; an element can be both, which
FieldsV1 writes as a ``"."`` key. Sets are immutable values; empty children are never kept.

``FieldSet.from_fields_v1(obj)`` / ``to_fields_v1()`` read and write the ``fieldsV1`` JSON of a
managedFields entry, with elements in structured-merge-diff's order (fields, then keys, then
values, then indices) so output matches the real server's byte for byte. ``path_string(path)``
renders a path as conflict messages do (``.spec.template.spec.containers[name="app"].image``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .gofmt import go_float

__all__ = ["FieldSet", "Path", "PathElement", "freeze", "path_string", "thaw"]

PathElement = tuple[str, Any]
Path = tuple[PathElement, ...]

_KIND_ORDER = {"f": 0, "k": 1, "v": 2, "i": 3}
# structured-merge-diff's value.Compare: numbers, strings, booleans, lists, maps, null
_VALUE_RANK = {"n": 0, "s": 1, "b": 2, "l": 3, "m": 4, "z": 5}


def freeze(value: Any) -> tuple[str, Any]:
    """A hashable JSON value; ``true`` stays apart from ``1``, and ``1`` equals ``1.0``."""
    if value is None:
        return ("z", None)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(freeze(v) for v in value))
    return ("m", tuple(sorted((k, freeze(v)) for k, v in value.items())))


def thaw(frozen: tuple[str, Any]) -> Any:
    tag, payload = frozen
    if tag == "l":
        return [thaw(v) for v in payload]
    if tag == "m":
        return {k: thaw(v) for k, v in payload}
    return payload


def _value_order(frozen: tuple[str, Any]) -> tuple[Any, ...]:
    tag, payload = frozen
    if tag == "l":
        return (_VALUE_RANK[tag], tuple(_value_order(v) for v in payload))
    if tag == "m":
        return (_VALUE_RANK[tag], tuple((k, _value_order(v)) for k, v in payload))
    return (_VALUE_RANK[tag], payload if payload is not None else 0)


def element_order(element: PathElement) -> tuple[Any, ...]:
    """Sort key giving structured-merge-diff's ``PathElement.Compare`` order."""
    kind, payload = element
    if kind == "k":
        return (_KIND_ORDER[kind], tuple((name, _value_order(v)) for name, v in payload))
    if kind == "v":
        return (_KIND_ORDER[kind], _value_order(payload))
    return (_KIND_ORDER[kind], payload)


def _go_json(value: Any) -> str:
    """``encoding/json`` output: compact, HTML characters escaped, floats as Go prints them."""
    if isinstance(value, float) and not isinstance(value, bool):
        return go_float(value) if "e" not in go_float(value) else json.dumps(value)
    if isinstance(value, dict):
        items = ",".join(f"{_go_json(str(k))}:{_go_json(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def serialize_element(element: PathElement) -> str:
    kind, payload = element
    if kind == "f":
        return f"f:{payload}"
    if kind == "k":
        fields = ",".join(f"{_go_json(name)}:{_go_json(thaw(v))}" for name, v in payload)
        return "k:{" + fields + "}"
    if kind == "v":
        return f"v:{_go_json(thaw(payload))}"
    return f"i:{payload}"


def parse_element(text: str) -> PathElement | None:
    """A FieldsV1 key as a path element; ``None`` for an unknown element type (skipped)."""
    if len(text) < 2 or text[1] != ":":
        raise ValueError(f"missing colon: {text}")
    kind, rest = text[0], text[2:]
    if kind not in _KIND_ORDER:
        return None
    if kind == "f":
        return ("f", rest)
    if kind == "i":
        return ("i", int(rest))
    decoded = json.loads(rest)
    if kind == "v":
        return ("v", freeze(decoded))
    if not isinstance(decoded, dict):
        raise ValueError(f"key path element is not an object: {text!r}")
    return ("k", tuple(sorted((name, freeze(v)) for name, v in decoded.items())))


def _message_value(frozen: tuple[str, Any]) -> str:
    value = thaw(frozen)
    return json.dumps(value) if isinstance(value, str) else _go_json(value)


def element_string(element: PathElement) -> str:
    kind, payload = element
    if kind == "f":
        return f".{payload}"
    if kind == "k":
        return "[" + ",".join(f"{name}={_message_value(v)}" for name, v in payload) + "]"
    if kind == "v":
        return f"[={_message_value(payload)}]"
    return f"[{payload}]"


def path_string(path: Iterable[PathElement]) -> str:
    return "".join(element_string(e) for e in path)


class FieldSet:
    """An immutable ``fieldpath.Set``."""

    __slots__ = ("children", "members")

    def __init__(
        self,
        members: Iterable[PathElement] = (),
        children: Mapping[PathElement, FieldSet] | None = None,
    ) -> None:
        self.members: frozenset[PathElement] = frozenset(members)
        self.children: dict[PathElement, FieldSet] = {
            e: s for e, s in (children or {}).items() if not s.empty()
        }

    @classmethod
    def of(cls, paths: Iterable[Path]) -> FieldSet:
        members: set[PathElement] = set()
        below: dict[PathElement, list[Path]] = {}
        for path in paths:
            if len(path) == 1:
                members.add(path[0])
            elif path:
                below.setdefault(path[0], []).append(path[1:])
        return cls(members, {e: cls.of(rest) for e, rest in below.items()})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.members == other.members and self.children == other.children

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.paths()]})"

    def empty(self) -> bool:
        return not self.members and not self.children

    def has(self, path: Path) -> bool:
        node: FieldSet | None = self
        for element in path[:-1]:
            node = node.children.get(element) if node is not None else None
        return node is not None and bool(path) and path[-1] in node.members

    def child(self, element: PathElement) -> FieldSet:
        return self.children.get(element, _EMPTY)

    def union(self, other: FieldSet) -> FieldSet:
        keys = self.children.keys() | other.children.keys()
        return FieldSet(
            self.members | other.members,
            {e: self.child(e).union(other.child(e)) for e in keys},
        )

    def intersection(self, other: FieldSet) -> FieldSet:
        keys = self.children.keys() & other.children.keys()
        return FieldSet(
            self.members & other.members,
            {e: self.children[e].intersection(other.children[e]) for e in keys},
        )

    def difference(self, other: FieldSet) -> FieldSet:
        """Members of ``other`` removed, level by level (children of a removed member stay)."""
        return FieldSet(
            self.members - other.members,
            {e: s.difference(other.child(e)) for e, s in self.children.items()},
        )

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Like ``difference``, but a member of ``other`` also removes everything below it."""
        return FieldSet(
            self.members - other.members,
            {
                e: s.recursive_difference(other.child(e))
                for e, s in self.children.items()
                if e not in other.members
            },
        )

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path in the set, in structured-merge-diff's iteration order."""
        for element in sorted(self.members, key=element_order):
            yield (*prefix, element)
        for element in sorted(self.children, key=element_order):
            yield from self.children[element].paths((*prefix, element))

    def to_fields_v1(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for element in sorted(self.members | self.children.keys(), key=element_order):
            key = serialize_element(element)
            if element in self.children:
                inner = self.children[element].to_fields_v1()
                out[key] = {".": {}, **inner} if element in self.members else inner
            else:
                out[key] = {}
        return out

    @classmethod
    def from_fields_v1(cls, fields: Mapping[str, Any]) -> FieldSet:
        members: set[PathElement] = set()
        children: dict[PathElement, FieldSet] = {}
        for key, inner in fields.items():
            if key == ".":
                continue
            element = parse_element(key)
            if element is None:
                continue
            if not isinstance(inner, Mapping):
                raise ValueError(f"expected an object under {key!r}")
            if not inner or "." in inner:
                members.add(element)
            children[element] = cls.from_fields_v1(inner)
        return cls(members, children)


_EMPTY = FieldSet()
