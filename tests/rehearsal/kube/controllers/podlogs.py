"""Where the kubelet writes container output: ``<root>/<namespace>_<pod>_<uid>/<container>/
<restartCount>.log``, the layout of /var/log/pods, one file per container instance, the raw output
of the process (stdout and stderr interleaved as written)."""

from __future__ import annotations

from pathlib import Path


def pod_log_dir(root: Path, namespace: str, name: str, uid: str) -> Path:
    return root / f"{namespace}_{name}_{uid}"


def container_log(root: Path, meta: dict[str, str], container: str, restart: int) -> Path:
    """The log of instance ``restart`` of ``container`` in the pod with metadata ``meta``."""
    directory = pod_log_dir(root, meta["namespace"], meta["name"], meta["uid"])
    return directory / container / f"{restart}.log"
