"""The pod-template-hash of a ReplicaSet, and template equality ignoring it.

Upstream hashes the template's Go structure with FNV-32a and writes the number with
``rand.SafeEncodeString`` (an alphabet without vowels, so no words appear). Here the hashed
bytes are the template's canonical JSON with empty values dropped, which keeps the properties
clients rely on: stable for a template, different when the template differs, bumped by
``status.collisionCount``. Equality is apimachinery's semantic equality, where an empty map or
list equals an absent one.
"""

from __future__ import annotations

import copy
import json
from typing import Any

HASH_LABEL = "pod-template-hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def fnv32a(data: bytes, value: int = FNV_OFFSET) -> int:
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in text)


def semantic(value: Any) -> Any:
    """``value`` with None, empty maps and empty lists dropped, recursively."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return out


def template_hash(template: dict[str, Any], collision_count: int | None = None) -> str:
    canonical = json.dumps(semantic(without_hash(template)), sort_keys=True, separators=(",", ":"))
    value = fnv32a(canonical.encode())
    if collision_count is not None:
        value = fnv32a(collision_count.to_bytes(4, "little"), value)
    return safe_encode(str(value))


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return semantic(without_hash(a)) == semantic(without_hash(b))
