"""A container's Secret, ConfigMap, projected and emptyDir volumes as files under a directory,
read through the API: the stand-in's version of the kubelet mounting them."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..kube.client import CONFIGMAPS, SECRETS, ApiClient, KubeError

Obj = dict[str, Any]


async def _object_files(api: ApiClient, namespace: str, source: Obj, secret: bool) -> dict[str, bytes] | None:
    name = source.get("secretName") or source.get("name") or ""
    try:
        obj = await api.get(SECRETS if secret else CONFIGMAPS, namespace, name)
    except KubeError as err:
        if err.not_found:
            return None
        raise
    if secret:
        files = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    else:
        files = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        files.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    items = source.get("items")
    if items:
        files = {item.get("path", item["key"]): files[item["key"]] for item in items
                 if item["key"] in files}
    return files


async def volume_files(api: ApiClient, namespace: str, volume: Obj) -> dict[str, bytes] | None:
    """The files of one volume; None for an emptyDir (a plain directory)."""
    if "secret" in volume or "configMap" in volume:
        source = volume.get("secret") or volume.get("configMap") or {}
        files = await _object_files(api, namespace, source, "secret" in volume)
        if files is None and not source.get("optional"):
            raise FileNotFoundError(f"volume {volume['name']}: {source} not found")
        return files or {}
    if "projected" in volume:
        out: dict[str, bytes] = {}
        for source in volume["projected"].get("sources") or []:
            for kind in ("secret", "configMap"):
                if kind in source:
                    out.update(await _object_files(api, namespace, source[kind],
                                                   kind == "secret") or {})
        return out
    return None


def _write(path: Path, content: bytes) -> bool:
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
    return True


async def materialize(api: ApiClient, namespace: str, volumes: Iterable[Obj],
                      mounts: Iterable[Obj], root: Path) -> bool:
    """Write every mounted volume under ``root``; True when a file changed."""
    by_name = {v["name"]: v for v in volumes}
    changed = False
    for mount in mounts:
        volume = by_name.get(mount["name"])
        if volume is None:
            continue
        target = root / mount["mountPath"].lstrip("/")
        files = await volume_files(api, namespace, volume)
        if files is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        if mount.get("subPath"):
            if mount["subPath"] in files:
                changed |= _write(target, files[mount["subPath"]])
            continue
        target.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in target.iterdir() if p.is_file()) - set(files):
            (target / stale).unlink()
            changed = True
        for name, content in files.items():
            changed |= _write(target / name, content)
    return changed
