"""What the config reloader stand-in hands the binary: the operator's configuration with the
environment substituted (as prometheus-config-reloader does for ``$(POD_NAME)`` and ``$(SHARD)``),
paths moved under the pod's root directory (the stand-in's volume mounts), and each
``kubernetes_sd_configs`` entry replaced by a ``file_sd_configs`` file that
:mod:`.discovery` keeps up to date (the Debian binary has no Kubernetes discovery)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .config import render
from .discovery import Request

Obj = dict[str, Any]

_ENV_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Replace ``$(NAME)`` by the variable's value; unknown names stay as they are."""
    return _ENV_REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def under_root(root: Path, path: str) -> str:
    return str(root / path.lstrip("/"))


def _file_sd(root: Path, owner: str, index: int, sd: Obj,
             requests: dict[Path, Request]) -> str:
    digest = hashlib.sha256(f"{owner}/{index}".encode()).hexdigest()[:16]
    path = root / "discovery" / f"{digest}.json"
    names = (sd.get("namespaces") or {}).get("names")
    requests[path] = Request(role=sd["role"], namespaces=tuple(names) if names else None)
    return str(path)


def _replace_discovery(root: Path, owner: str, section: Obj,
                       requests: dict[Path, Request]) -> None:
    kubernetes = section.pop("kubernetes_sd_configs", None)
    if not kubernetes:
        return
    files = [_file_sd(root, owner, i, sd, requests) for i, sd in enumerate(kubernetes)]
    section.setdefault("file_sd_configs", []).append({"files": files})


def runnable(config_text: str, root: Path, env: Mapping[str, str]) -> tuple[str, dict[Path, Request]]:
    """The configuration the binary loads and the discovery files it reads."""
    config = yaml.safe_load(expand(config_text, env)) or {}
    requests: dict[Path, Request] = {}
    config["rule_files"] = [under_root(root, p) for p in config.get("rule_files") or []]
    if not config["rule_files"]:
        del config["rule_files"]
    for job in config.get("scrape_configs") or []:
        _replace_discovery(root, job["job_name"], job, requests)
    alerting = config.get("alerting") or {}
    for index, alertmanager in enumerate(alerting.get("alertmanagers") or []):
        _replace_discovery(root, f"alertmanager/{index}", alertmanager, requests)
    return render(config), requests
