"""Which namespaces and objects a Prometheus selects, as prometheus-operator decides it.

A null label selector selects nothing and an empty one selects everything; a null namespace
selector means "the Prometheus object's own namespace" and an empty one means every namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..kube.selectors import selector_object_matcher

Obj = dict[str, Any]


def selected_namespaces(own_namespace: str, namespace_selector: Mapping[str, Any] | None,
                        namespaces: Iterable[Obj]) -> set[str]:
    if namespace_selector is None:
        return {own_namespace}
    matches = selector_object_matcher(namespace_selector)
    return {ns["metadata"]["name"] for ns in namespaces
            if matches(ns["metadata"].get("labels") or {})}


def select(objects: Iterable[Obj], own_namespace: str, selector: Mapping[str, Any] | None,
           namespace_selector: Mapping[str, Any] | None, namespaces: Iterable[Obj]) -> list[Obj]:
    """The objects matching ``selector`` in the selected namespaces, sorted by namespace/name."""
    if selector is None:
        return []
    matches = selector_object_matcher(selector)
    allowed = selected_namespaces(own_namespace, namespace_selector, namespaces)
    chosen = [obj for obj in objects
              if obj["metadata"].get("namespace") in allowed
              and matches(obj["metadata"].get("labels") or {})]
    return sorted(chosen, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
