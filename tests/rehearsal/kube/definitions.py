"""The Kubernetes 1.33 OpenAPI definitions that kubernetes-validate bundles.

``kubernetes_validate`` ships ``kubernetes-json-schema/v1.33.0-local/_definitions.json``: the
apiserver's OpenAPI v2 definitions rewritten as JSON Schema (``$defs``, ``#/$defs/`` references,
``"type": [T, "null"]``), keeping the ``x-kubernetes-*`` extensions. This module loads it once and
answers questions about it; openapi.py turns it back into OpenAPI v2/v3 for clients.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

Schema = dict[str, Any]
REF_PREFIX = "#/$defs/"


@cache
def definitions(kubernetes_version: str = "1.33") -> dict[str, Schema]:
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = root / f"v{kubernetes_version}.0-local" / "_definitions.json"
    return json.loads(path.read_text())["$defs"]


def ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX) :]
    return None


def resolve(schema: Schema, version: str = "1.33") -> tuple[Schema, str | None]:
    """Follow a ``$ref``; returns (schema, definition name or None)."""
    name = ref_name(schema)
    if name is None:
        return schema, None
    return definitions(version)[name], name


def types_of(schema: Schema) -> list[str]:
    """The non-null JSON types a schema admits (empty: anything)."""
    declared = schema.get("type")
    if declared is None:
        return []
    listed = declared if isinstance(declared, list) else [declared]
    return [t for t in listed if t != "null"]


def referenced(names: list[str], version: str = "1.33") -> list[str]:
    """The given definitions and every definition they reference, transitively."""
    defs = definitions(version)
    seen: dict[str, None] = {}
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = None
        stack.extend(_refs(defs[name]))
    return list(seen)


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        name = ref_name(node)
        if name:
            out.append(name)
        for value in node.values():
            out.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_refs(value))
    return out
