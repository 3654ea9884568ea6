"""Strategic merge patch, server side, as k8s.io/apimachinery/pkg/util/strategicpatch applies it.

``apply_strategic_merge_patch(obj: dict, patch: Any, schema: SchemaNode) -> dict`` returns a new
object (the arguments are not modified). ``schema`` is the kind's root :class:`SchemaNode`; the
server refuses this patch type for custom resources (415) before getting here.

Semantics (``StrategicMergeMapPatch`` with parallel lists merged and unmatched nulls ignored):

* maps merge key by key; ``null`` deletes; nulls inside values that are new are dropped;
* a list whose field has ``patchStrategy: merge`` merges: items of maps by the merge key
  (containers by ``name``, ports by ``containerPort``, volumeMounts by ``mountPath``...), primitive
  items as a set; any other list, and any field with ``patchStrategy: replace``, is replaced;
* directives: ``$patch: replace`` (a map or a merging list replaced by the patch's content),
  ``$patch: delete`` (a map emptied, or a list item removed by merge key), ``$retainKeys``
  (fields of a ``retainKeys`` map not listed are cleared, e.g. ``rollingUpdate`` when a
  Deployment's strategy becomes ``Recreate``), ``$setElementOrder/<list>`` (final order of a
  merging list), ``$deleteFromPrimitiveList/<list>`` (items removed from a primitive list);
* merged lists keep the patch's order for the items it names and the live order for the rest.

Errors raise :class:`PatchError` sorted as the server's ``interpretStrategicMergePatchError``
does: malformed directives 400, lists of lists 422, everything else (missing merge key, unknown
``$patch`` value, mismatched ``$setElementOrder``) as a plain 500 with the library's message.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .gofmt import go_type, go_value
from .patch_errors import PatchError
from .schema import SchemaNode

__all__ = ["apply_strategic_merge_patch"]

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList"
_SET_ORDER = "$setElementOrder"

_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ORDER = "invalid patch format of setElementOrder list"


def _bad_arg(expected: str, actual: Any) -> PatchError:
    return PatchError.internal(f"expected a {expected}, but received a {go_type(actual)}")


def _no_merge_key(item: dict[str, Any], key: str) -> PatchError:
    return PatchError.internal(f"map: {go_value(item)} does not contain declared merge key: {key}")


def _bad_patch_type(directive: Any, item: dict[str, Any]) -> PatchError:
    shown = f"{go_value(directive)} in map: {go_value(item)}"
    return PatchError.internal(f"unknown patch type: {shown}")


def _same_kind(left: Any, right: Any) -> bool:
    """Whether two decoded JSON values have the same Go type (int64 and float64 differ)."""
    return type(left) is type(right)


def _go_equal(left: Any, right: Any) -> bool:
    """Go's ``==`` on two interface values holding decoded JSON scalars."""
    return _same_kind(left, right) and left == right


def _item_key(item: Any, merge_key: str) -> Any:
    return item.get(merge_key) if isinstance(item, dict) else None


def _find(items: list[Any], merge_key: str, value: Any) -> int:
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError.internal(f"value for key {position} is not a map")
        if merge_key in item and _go_equal(item[merge_key], value):
            return position
    return -1


def _position(order: list[Any], item: Any, merge_key: str, maps: bool) -> int:
    def value(entry: Any) -> Any:
        return _item_key(entry, merge_key) if maps else entry

    wanted = value(item)
    for position, entry in enumerate(order):
        if _go_equal(value(entry), wanted):
            return position
    return -1


def _element_kind(*lists: list[Any]) -> type:
    """``sliceElementType``: the one Go type of all items; lists of lists are refused."""
    kind: type | None = None
    for items in lists:
        for item in items:
            if kind is None:
                kind = type(item)
                if kind is list:
                    raise PatchError.invalid("lists of lists are not supported")
            elif type(item) is not kind:
                shown = " ".join(go_value(x) for x in lists)
                raise PatchError.internal(f"list element types are not identical: [{shown}]")
    if kind is None:
        raise PatchError.internal("no elements in any of the given slices")
    return kind


def _stable_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> list[Any]:
    """Go's insertion sort, so an inconsistent ``less`` orders items as the server does."""
    result = list(items)
    for i in range(1, len(result)):
        j = i
        while j > 0 and less(result[j], result[j - 1]):
            result[j], result[j - 1] = result[j - 1], result[j]
            j -= 1
    return result


def _sort_by(items: list[Any], order: list[Any], merge_key: str, maps: bool) -> list[Any]:
    to_delete: list[Any] = []
    if maps:
        for entry in (*items, *order):
            if not isinstance(entry, dict):
                raise _bad_arg("map[string]interface {}", entry)
            if merge_key not in entry:
                raise _no_merge_key(entry, merge_key)
        to_delete = [i for i in items if i.get(_DIRECTIVE) == "delete"]
        items = [i for i in items if i.get(_DIRECTIVE) != "delete"]

    def less(left: Any, right: Any) -> bool:
        left_at = _position(order, left, merge_key, maps)
        right_at = _position(order, right, merge_key, maps)
        if left_at >= 0 and right_at >= 0:
            return left_at < right_at
        return True

    return _stable_sort(items, less) + to_delete


def _interleave(
    server_only: list[Any], patched: list[Any], server_order: list[Any], merge_key: str, maps: bool
) -> list[Any]:
    """``mergeSortedSlice``: server-only items slotted among patched items by live order."""
    result: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patched):
        if i >= len(server_only):
            result.append(patched[j])
            j += 1
            continue
        if j >= len(patched):
            result.append(server_only[i])
            i += 1
            continue
        left_at = _position(server_order, server_only[i], merge_key, maps)
        right_at = _position(server_order, patched[j], merge_key, maps)
        if left_at >= 0 and right_at >= 0 and left_at < right_at:
            result.append(server_only[i])
            i += 1
        else:
            result.append(patched[j])
            j += 1
    return result


def _normalize_order(
    patched: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    maps: bool,
) -> list[Any]:
    patched = _sort_by(patched, patch_order, merge_key, maps)
    server_only = _sort_by(server_only, server_order, merge_key, maps)
    return _interleave(server_only, patched, server_order, merge_key, maps)


def _partition(items: list[Any], named: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Items ``named`` mentions (by merge key, or by value for primitives), and the others."""
    inside: list[Any] = []
    outside: list[Any] = []
    for item in items:
        if merge_key:
            if not isinstance(item, dict):
                raise _bad_arg("map[string]interface {}", item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            found = _find(named, merge_key, item[merge_key]) >= 0
        else:
            found = any(_go_equal(item, other) for other in named)
        (inside if found else outside).append(item)
    return inside, outside


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """Strip maps carrying ``$patch`` from a value taken whole; ``False`` drops the value."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        kept: dict[str, Any] = {}
        for key, item in value.items():
            cleaned, keep = _remove_directives(item)
            if keep:
                kept[key] = cleaned
        return kept, True
    if isinstance(value, list):
        return [c for c, keep in map(_remove_directives, value) if keep], True
    return value, True


def _discard_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_discard_nulls(v) for v in value]
    return value


def _directive_key(key: str, prefix: str, error: str) -> str:
    head, sep, tail = key.partition("/")
    if not sep or head != prefix:
        raise PatchError.bad_request(error)
    return tail


def _strategy(node: SchemaNode | None) -> str:
    """The non-``retainKeys`` strategy of a field (``extractRetainKeysPatchStrategy``)."""
    strategies = node.patch_strategies if node is not None else ()
    others = [s for s in strategies if s != "retainKeys"]
    if len(strategies) > 2 or len(others) > 1 or (len(strategies) == 2 and len(others) != 1):
        raise PatchError.internal(f"unexpected patch strategy: [{' '.join(strategies)}]")
    return others[0] if others else ""


class _Merger:
    """One strategic merge; nodes are ``None`` where the schema says nothing."""

    def field(self, node: SchemaNode | None, key: str) -> SchemaNode | None:
        if node is None:
            return None
        child = node.field(key)
        if child is None and node.type == "object" and node.properties:
            struct = node.name.rsplit(".", 1)[-1]
            raise PatchError.internal(
                f'unable to find api field in struct {struct} for the json field "{key}"'
            )
        return child

    def merge_map(
        self, original: dict[str, Any] | None, patch: dict[str, Any], node: SchemaNode | None
    ) -> dict[str, Any]:
        if _DIRECTIVE in patch:
            directive = patch[_DIRECTIVE]
            if directive == "replace":
                return {k: v for k, v in patch.items() if k != _DIRECTIVE}
            if directive == "delete":
                return {}
            raise _bad_patch_type(directive, patch)
        result = dict(original or {})
        patch = dict(patch)
        self.retain_keys(result, patch)
        self.set_element_orders(result, patch, node)
        for key, value in patch.items():
            self.merge_key(result, key, value, node)
        return result

    def retain_keys(self, original: dict[str, Any], patch: dict[str, Any]) -> None:
        if _RETAIN_KEYS not in patch:
            return
        retained = patch.pop(_RETAIN_KEYS)
        if not isinstance(retained, list):
            raise PatchError.bad_request(_BAD_RETAIN_KEYS)
        for key, value in patch.items():
            if value is None or key.startswith((_DELETE_PRIMITIVES, _SET_ORDER)):
                continue
            if key not in retained:
                raise PatchError.bad_request(_BAD_RETAIN_KEYS)
        for key in [k for k in original if k not in retained]:
            del original[key]

    def set_element_orders(
        self, original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None
    ) -> None:
        for directive in [k for k in patch if k.startswith(_SET_ORDER)]:
            order = patch.pop(directive)
            if not isinstance(order, list):
                raise _bad_arg("[]interface {}", order)
            key = _directive_key(directive, _SET_ORDER, _BAD_SET_ORDER)
            current = original.get(key)
            patched = patch.get(key)
            for holder, value in ((original, current), (patch, patched)):
                if key in holder and not isinstance(value, list):
                    raise _bad_arg("[]interface {}", value)
            child = self.field(node, key)
            strategy = _strategy(child)
            merge_key = (child.patch_merge_key if child is not None else None) or ""
            _check_order(patched or [], order, merge_key)
            if key in original and key in patch:
                merged = self.merge_list(current, patched, child, strategy, merge_key, False)
            elif key in original:
                merged = current
            elif key in patch:
                merged, _ = _remove_directives(patched)
            else:
                continue
            maps = _element_kind(current or [], patched or []) is dict
            server_order = current or []
            if maps and strategy == "merge" and key in original and key in patch:
                server_order = _write_through(server_order, patched, merge_key)
            inside, outside = _partition(merged, order, merge_key)
            original[key] = _normalize_order(inside, outside, order, server_order, merge_key, maps)
            patch.pop(key, None)

    def merge_key(
        self, original: dict[str, Any], key: str, value: Any, node: SchemaNode | None
    ) -> None:
        delete_list = key.startswith(_DELETE_PRIMITIVES)
        if delete_list:
            key = _directive_key(key, _DELETE_PRIMITIVES, _BAD_PRIMITIVE_LIST)
        if value is None:
            original.pop(key, None)
            return
        if key not in original or not _same_kind(original[key], value):
            if not delete_list:
                cleaned, keep = _remove_directives(_discard_nulls(value))
                if keep:
                    original[key] = cleaned
                else:
                    original.pop(key, None)
            return
        current = original[key]
        if isinstance(current, dict):
            child = self.field(node, key)
            if _strategy(child) == "replace":
                original[key] = value
            else:
                original[key] = self.merge_map(current, value, child)
        elif isinstance(current, list):
            child = self.field(node, key)
            merge_key = (child.patch_merge_key if child is not None else None) or ""
            original[key] = self.merge_list(
                current, value, child, _strategy(child), merge_key, delete_list
            )
        else:
            original[key] = value

    def merge_list(
        self,
        original: list[Any],
        patch: list[Any],
        node: SchemaNode | None,
        strategy: str,
        merge_key: str,
        delete_list: bool,
    ) -> list[Any]:
        if strategy != "merge" and not delete_list:
            return patch
        if not original and not patch:
            return original
        items = node.items if node is not None else None
        maps = _element_kind(original, patch) is dict
        if not maps:
            if delete_list:
                return [v for v in original if not any(_go_equal(v, d) for d in patch)]
            merged: list[Any] = []
            for value in original + patch:
                if not any(_go_equal(value, seen) for seen in merged):
                    merged.append(value)
        else:
            if not merge_key:
                raise PatchError.internal("cannot merge lists without merge key for struct")
            original, patch = _special_items(original, patch, merge_key)
            merged = self.merge_items(original, patch, merge_key, items)
        inside, outside = _partition(merged, patch, merge_key)
        return _normalize_order(inside, outside, patch, original, merge_key, maps)

    def merge_items(
        self, original: list[Any], patch: list[Any], merge_key: str, items: SchemaNode | None
    ) -> list[Any]:
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            position = _find(merged, merge_key, item[merge_key])
            if position >= 0:
                merged[position] = self.merge_map(merged[position], item, items)
            else:
                merged.append(item)
        return merged


def _special_items(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Apply ``$patch`` items of a merging list; return the live items and the plain patch items."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [
                o for o in original
                if not (merge_key in o and _go_equal(o[merge_key], item[merge_key]))
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError.internal("merging lists cannot yet be specified in the patch")
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return plain, []
    return original, plain


def _write_through(original: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    """The live list as the server reads it back after merging ``patch`` into it.

    The Go code deletes list items in place and appends new ones to the same backing array, so
    the live slice it later orders by sees those writes; the final order depends on it.
    """
    backing = list(original)
    length = len(backing)
    plain = []
    for item in patch:
        if item.get(_DIRECTIVE) == "delete" and merge_key in item:
            while (at := _find(backing[:length], merge_key, item[merge_key])) >= 0:
                backing[at : length - 1] = backing[at + 1 : length]
                length -= 1
        elif item.get(_DIRECTIVE) == "replace":
            return backing
        elif _DIRECTIVE not in item:
            plain.append(item)
    for item in plain:
        if length >= len(backing):
            break
        if merge_key in item and _find(backing[:length], merge_key, item[merge_key]) < 0:
            backing[length] = item
            length += 1
    return backing


def _check_order(patch: list[Any], order: list[Any], merge_key: str) -> None:
    """``validatePatchWithSetOrderList``: the patch's items appear in the order list, in order."""
    if not order or not patch:
        return
    items = patch
    if merge_key:
        items = [i for i in patch if not (isinstance(i, dict) and i.get(_DIRECTIVE) == "delete")]
    at = 0
    for wanted in order:
        while at < len(items) and isinstance(items[at], dict) and _DIRECTIVE in items[at]:
            at += 1
        if at >= len(items):
            return
        if merge_key:
            for entry in (items[at], wanted):
                if not isinstance(entry, dict):
                    raise _bad_arg("map[string]interface {}", entry)
                if merge_key not in entry:
                    raise _no_merge_key(entry, merge_key)
            if _go_equal(items[at][merge_key], wanted[merge_key]):
                at += 1
        elif _go_equal(items[at], wanted):
            at += 1
    if at < len(items):
        raise PatchError.internal(
            f"The order in patch list:\n{go_value(patch)}\n doesn't match {_SET_ORDER} list:\n"
            f"{go_value(order)}\n"
        )


def apply_strategic_merge_patch(
    obj: dict[str, Any], patch: Any, schema: SchemaNode
) -> dict[str, Any]:
    """Apply a strategic merge patch to a copy of ``obj``; see the module docstring."""
    if patch is None:
        return copy.deepcopy(obj)
    if not isinstance(patch, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(patch), "number")
        raise PatchError.bad_request(
            f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        )
    return _Merger().merge_map(copy.deepcopy(obj), copy.deepcopy(patch), schema)
