"""Relabeling rules prometheus-operator puts in every generated scrape job."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Rule = dict[str, Any]

_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize(name: str) -> str:
    """A Kubernetes label name as a Prometheus label name suffix."""
    return _INVALID_LABEL_CHARS.sub("_", name)


def job_name_to_meta() -> Rule:
    return {"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}


def selector_rules(selector: Mapping[str, Any], meta_prefix: str) -> list[Rule]:
    """Keep/drop rules equivalent to a label selector on ``<meta_prefix>label_<name>``
    (``__meta_kubernetes_service_`` for ServiceMonitors, ``__meta_kubernetes_pod_`` for
    PodMonitors)."""
    rules: list[Rule] = []
    labels = selector.get("matchLabels") or {}
    for key in sorted(labels):
        rules.append({
            "action": "keep",
            "source_labels": [f"{meta_prefix}label_{sanitize(key)}",
                              f"{meta_prefix}labelpresent_{sanitize(key)}"],
            "regex": f"({labels[key]});true",
        })
    for expression in selector.get("matchExpressions") or []:
        key = sanitize(expression["key"])
        values = "|".join(expression.get("values") or [])
        operator = expression["operator"]
        if operator in ("In", "NotIn"):
            rules.append({
                "action": "keep" if operator == "In" else "drop",
                "source_labels": [f"{meta_prefix}label_{key}", f"{meta_prefix}labelpresent_{key}"],
                "regex": f"({values});true",
            })
        elif operator in ("Exists", "DoesNotExist"):
            rules.append({
                "action": "keep" if operator == "Exists" else "drop",
                "source_labels": [f"{meta_prefix}labelpresent_{key}"],
                "regex": "true",
            })
    return rules


def running_filter() -> Rule:
    return {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"],
            "regex": "(Failed|Succeeded)"}


def copy_label(meta: str, target: str) -> Rule:
    return {"source_labels": [meta], "target_label": target, "regex": "(.+)",
            "replacement": "${1}"}


def user_rules(configs: list[Mapping[str, Any]] | None) -> list[Rule]:
    """A monitor's relabelings/metricRelabelings in Prometheus's spelling."""
    rules: list[Rule] = []
    for config in configs or []:
        rule: Rule = {}
        if config.get("sourceLabels"):
            rule["source_labels"] = list(config["sourceLabels"])
        if "separator" in config:
            rule["separator"] = config["separator"]
        if config.get("targetLabel"):
            rule["target_label"] = config["targetLabel"]
        if config.get("regex"):
            rule["regex"] = config["regex"]
        if config.get("modulus"):
            rule["modulus"] = config["modulus"]
        if "replacement" in config:
            rule["replacement"] = config["replacement"]
        if config.get("action"):
            rule["action"] = config["action"].lower()
        rules.append(rule)
    return rules


def sharding(shards: int, label: str = "__address__") -> list[Rule]:
    """Hash targets into ``shards``; the config reloader substitutes ``$(SHARD)``."""
    return [
        {"source_labels": [label, "__tmp_hash"], "target_label": "__tmp_hash",
         "regex": "(.+);", "replacement": "$1", "action": "replace"},
        {"source_labels": ["__tmp_hash"], "target_label": "__tmp_hash", "modulus": shards,
         "action": "hashmod"},
        {"source_labels": ["__tmp_hash", "__tmp_disable_sharding"],
         "regex": "$(SHARD);|.+;.+", "action": "keep"},
    ]
