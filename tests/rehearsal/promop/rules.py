"""PrometheusRules as the rule files and ConfigMaps prometheus-operator writes.

Each selected PrometheusRule becomes the file ``<namespace>-<name>-<uid>.yaml`` holding its spec
in Prometheus's rule file format, with the fields the configured Prometheus does not know yet
removed. A rule that Prometheus would not load is rejected, as the operator rejects it; the
stand-in asks the real ``promtool check rules`` instead of linking Prometheus's parser.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .version import Version

Obj = dict[str, Any]

PROMTOOL = "/usr/bin/promtool"
MAX_CONFIG_MAP_DATA = 1024 * 1024 // 2
_GROUP_KEYS = ("name", "labels", "interval", "query_offset", "rules", "limit")
_RULE_KEYS = ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")
_MINIMUM = {"limit": "2.31.0", "query_offset": "2.53.0", "labels": "3.0.0",
            "keep_firing_for": "2.42.0"}


class InvalidRule(ValueError):
    """promtool refused the rule file."""


def file_name(rule: Obj) -> str:
    meta = rule["metadata"]
    return f"{meta['namespace']}-{meta['name']}-{meta['uid']}.yaml"


def _supported(key: str, version: Version) -> bool:
    return key not in _MINIMUM or version.at_least(_MINIMUM[key])


def rule_file(rule: Obj, version: Version) -> str:
    """The spec as a rule file, empty durations and unsupported fields dropped."""
    groups = []
    for group in (rule.get("spec") or {}).get("groups") or []:
        out: Obj = {}
        for key in _GROUP_KEYS:
            value = group.get(key)
            if value in (None, "") or not _supported(key, version):
                continue
            if key == "rules":
                value = [{k: r[k] for k in _RULE_KEYS
                          if r.get(k) not in (None, "")
                          and (k == "labels" or _supported(k, version))}
                         for r in value]
            out[key] = value
        out.setdefault("rules", [])
        groups.append(out)
    return yaml.safe_dump({"groups": groups}, sort_keys=False, width=1 << 16)


def check(content: str, promtool: str = PROMTOOL) -> None:
    """Raise :class:`InvalidRule` with promtool's message when Prometheus would not load it."""
    with tempfile.TemporaryDirectory(prefix="promop-rules-") as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(content)
        done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                              text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise InvalidRule((done.stdout + done.stderr).replace(str(path), "<rule file>").strip())


def config_map_data(files: dict[str, str]) -> list[dict[str, str]]:
    """Rule files packed first-fit, by name, into ConfigMaps of at most half a MiB each."""
    buckets: list[dict[str, str]] = [{}]
    size = 0
    for name in sorted(files):
        if size + len(files[name]) > MAX_CONFIG_MAP_DATA:
            buckets.append({})
            size = 0
        buckets[-1][name] = files[name]
        size += len(files[name])
    return buckets
