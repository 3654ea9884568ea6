"""JSON patch, JSON merge patch and strategic merge patch as kube-apiserver applies them.

Public interface
----------------
``apply_json_patch(obj: Any, ops: Any) -> Any``
    RFC 6902 (``application/json-patch+json``) applied to a copy of ``obj`` with the ``jsonpatch``
    library, keeping the quirks of the evanphx/json-patch v4 library the server uses: ``replace``
    of a missing object member adds it, ``add`` without ``value`` adds ``null``, negative array
    indices count from the end, ``test`` of a missing member against ``null`` passes.
    A document that is not a list of operation objects raises ``PatchError`` 400 (the decode
    error; ``null`` decodes to no operations); an operation that does not apply raises
    ``PatchError`` 422 ``Invalid`` with the server's generic message, the library's own wording
    in ``.detail``. The 10000-operation limit (413) is the caller's to check.
``apply_merge_patch(obj: dict, patch: Any) -> Any``
    RFC 7386 (``application/merge-patch+json``) as evanphx ``MergePatch``: nulls delete, objects
    merge, anything else replaces; nulls inside newly added objects are dropped. A ``null`` or
    scalar patch raises ``PatchError`` 400 ``Invalid JSON Patch``; an array patch replaces the whole
    document (the caller's decode into an object then fails, as the server's does).
``apply_strategic_merge_patch(obj: dict, patch: Any, schema: SchemaNode) -> dict``
    k8s.io/apimachinery ``strategicpatch`` server-side semantics; see :mod:`.strategic`. Callers
    must refuse it (415) for kinds whose ``KindSchema.supports_strategic_merge_patch`` is false.
``PatchError(ApiError)``: ``.code``/``.reason``/``.message`` as the server answers (``status()``
    gives the metav1.Status body), ``.detail`` the underlying library message.

None of these functions mutates its arguments.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import jsonpointer

from .patch_errors import PatchError
from .strategic import apply_strategic_merge_patch

__all__ = [
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
]

_INVALID_JSON_PATCH = "Invalid JSON Patch"
_MISSING = "missing value"
_NO_PATH = "operation missing path field: missing value"
_NO_FROM = "operation, missing from field: missing value"


def _go_decode_error(value: Any, target: str) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")
    return f"json: cannot unmarshal {kind} into Go value of type {target}"


class _OpFailed(Exception):
    """An operation did not apply; the message is evanphx/json-patch's."""


def _decode_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _split(path: str) -> tuple[list[str], str] | None:
    tokens = path.split("/")
    if len(tokens) < 2 or tokens[0] != "":
        return None
    return [_decode_token(t) for t in tokens[1:-1]], _decode_token(tokens[-1])


def _index(container: list[Any], key: str, *, extra: int = 0) -> int:
    """Position ``key`` names in ``container`` (``extra`` allows one past the end for add)."""
    try:
        index = int(key)
    except ValueError as exc:
        raise _OpFailed(f'strconv.Atoi: parsing "{key}": invalid syntax') from exc
    size = len(container) + extra
    if index >= size or index < -size:
        raise _OpFailed(f"Unable to access invalid index: {index}: invalid index referenced")
    return index + size if index < 0 else index


def _container(doc: Any, path: str) -> tuple[dict[str, Any] | list[Any], str] | None:
    """evanphx ``findObject``: the object or array holding the last token, if it exists."""
    split = _split(path)
    if split is None:
        return None
    parents, key = split
    node = doc
    for token in parents:
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list):
            try:
                node = node[_index(node, token)]
            except _OpFailed:
                return None
        else:
            return None
    if not isinstance(node, dict | list):
        return None
    return node, key


def _json_equal(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return json.dumps(left) == json.dumps(right)


def _field(op: dict[str, Any], name: str, missing: str) -> str:
    value = op.get(name)
    if value is None:
        raise _OpFailed(missing)
    if not isinstance(value, str):
        raise _OpFailed(_go_decode_error(value, "string"))
    return value


class _Applier:
    """Applies one operation at a time, checking first what evanphx would refuse."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def run(self, op: dict[str, Any]) -> None:
        kind = op.get("op")
        handler = getattr(self, f"_op_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            raise _OpFailed(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
        handler(op)

    def _library(self, op: dict[str, Any]) -> None:
        try:
            self.doc = jsonpatch.JsonPatch([op]).apply(self.doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _OpFailed(str(exc)) from exc

    def _add(self, path: str, value: Any, verb: str, missing: str) -> None:
        found = _container(self.doc, path)
        if found is None:
            raise _OpFailed(missing)
        container, key = found
        pointer = path
        if isinstance(container, list) and key != "-":
            try:
                pointer = f"{path.rsplit('/', 1)[0]}/{_index(container, key, extra=1)}"
            except _OpFailed as exc:
                raise _OpFailed(f"error in {verb} for path: '{path}': {exc}") from exc
        self._library({"op": "add", "path": pointer, "value": value})

    def _existing(self, path: str, verb: str, missing: str) -> str:
        """The pointer to an existing member, with array indices made non-negative."""
        found = _container(self.doc, path)
        if found is None:
            raise _OpFailed(missing)
        container, key = found
        if isinstance(container, dict):
            if key not in container:
                raise _OpFailed(
                    f"error in {verb} for path: '{path}': "
                    f"Unable to remove nonexistent key: {key}: missing value"
                )
            return path
        try:
            return f"{path.rsplit('/', 1)[0]}/{_index(container, key)}"
        except _OpFailed as exc:
            raise _OpFailed(f"error in {verb} for path: '{path}': {exc}") from exc

    def _read(self, path: str, verb: str, missing: str) -> Any:
        """A member's value; a missing object member reads as ``null`` (evanphx v4)."""
        found = _container(self.doc, path)
        if found is None:
            raise _OpFailed(missing)
        container, key = found
        if isinstance(container, dict):
            return container.get(key)
        try:
            return container[_index(container, key)]
        except _OpFailed as exc:
            raise _OpFailed(f"error in {verb} for path: '{path}': {exc}") from exc

    def _op_add(self, op: dict[str, Any]) -> None:
        path = _field(op, "path", "add operation failed to decode path: missing value")
        missing = f'add operation does not apply: doc is missing path: "{path}": missing value'
        self._add(path, copy.deepcopy(op.get("value")), "add", missing)

    def _op_remove(self, op: dict[str, Any]) -> None:
        path = _field(op, "path", "remove operation failed to decode path: missing value")
        missing = f'remove operation does not apply: doc is missing path: "{path}": missing value'
        self._library({"op": "remove", "path": self._existing(path, "remove", missing)})

    def _op_replace(self, op: dict[str, Any]) -> None:
        path = _field(op, "path", f"replace operation failed to decode path: {_NO_PATH}")
        value = copy.deepcopy(op.get("value"))
        if path == "":
            if not isinstance(value, dict | list):
                raise _OpFailed("replace operation value must be object or array: <nil>")
            self.doc = value
            return
        found = _container(self.doc, path)
        if found is None:
            raise _OpFailed(
                f"replace operation does not apply: doc is missing path: {path}: missing value"
            )
        container, key = found
        if isinstance(container, dict):
            self._library({"op": "add", "path": path, "value": value})
            return
        try:
            pointer = f"{path.rsplit('/', 1)[0]}/{_index(container, key)}"
        except _OpFailed as exc:
            raise _OpFailed(
                f"replace operation does not apply: doc is missing key: {path}: missing value"
            ) from exc
        self._library({"op": "replace", "path": pointer, "value": value})

    def _op_move(self, op: dict[str, Any]) -> None:
        source = _field(op, "from", f"move operation failed to decode from: {_NO_FROM}")
        missing = f"move operation does not apply: doc is missing from path: {source}: {_MISSING}"
        pointer = self._existing(source, "move", missing)
        value = jsonpointer.resolve_pointer(self.doc, pointer)
        path = _field(op, "path", f"move operation failed to decode path: {_NO_PATH}")
        self._library({"op": "remove", "path": pointer})
        missing = f"move operation does not apply: doc is missing destination path: {path}"
        missing += f": {_MISSING}"
        self._add(path, value, "move", missing)

    def _op_copy(self, op: dict[str, Any]) -> None:
        source = _field(op, "from", f"copy operation failed to decode from: {_NO_FROM}")
        missing = f"copy operation does not apply: doc is missing from path: {source}: {_MISSING}"
        value = self._read(source, "copy", missing)
        path = _field(op, "path", "copy operation failed to decode path: missing value")
        missing = f"copy operation does not apply: doc is missing destination path: {path}"
        missing += f": {_MISSING}"
        self._add(path, copy.deepcopy(value), "copy", missing)

    def _op_test(self, op: dict[str, Any]) -> None:
        path = _field(op, "path", f"test operation failed to decode path: {_NO_PATH}")
        if path == "":
            actual = self.doc
        else:
            missing = f"test operation does not apply: is missing path: {path}: missing value"
            actual = self._read(path, "test", missing)
        expected = op.get("value")
        if (actual is None and expected is None) or _json_equal(actual, expected):
            return
        raise _OpFailed(f"testing value {path} failed: test failed")


def apply_json_patch(obj: Any, ops: Any) -> Any:
    """Apply an RFC 6902 document to a copy of ``obj``; see the module docstring."""
    if ops is None:
        return copy.deepcopy(obj)
    if not isinstance(ops, list):
        raise PatchError.bad_request(_go_decode_error(ops, "jsonpatch.Patch"))
    for op in ops:
        if op is not None and not isinstance(op, dict):
            raise PatchError.bad_request(_go_decode_error(op, "jsonpatch.Operation"))
    applier = _Applier(copy.deepcopy(obj))
    for op in ops:
        try:
            applier.run(op or {})
        except _OpFailed as exc:
            raise PatchError.invalid(str(exc)) from exc
    return applier.doc


def _prune_nulls(value: Any) -> Any:
    """evanphx ``pruneNulls``: drop null members of objects, at any depth (array items stay)."""
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


def _merge(current: Any, patch: Any) -> Any:
    if not isinstance(current, dict):
        return _prune_nulls(patch)
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif merged.get(key) is None:
            merged[key] = _prune_nulls(value)
        else:
            merged[key] = _merge(merged[key], value)
    return merged


def apply_merge_patch(obj: dict[str, Any], patch: Any) -> Any:
    """Apply an RFC 7386 merge patch to a copy of ``obj``; see the module docstring."""
    if isinstance(patch, list):
        return _prune_nulls(patch)
    if not isinstance(patch, dict):
        raise PatchError.bad_request(_INVALID_JSON_PATCH)
    return _merge(copy.deepcopy(obj), patch)

