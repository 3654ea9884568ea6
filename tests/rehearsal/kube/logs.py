"""``GET pods/<name>/log``: the apiserver's half (pod registry LogREST and LogLocation).

:func:`log_options` decodes the query as the parameter codec does (a boolean is false only when
absent, ``0`` or ``false``; an integer that does not parse is 400) and validates it as
ValidatePodLogOptions does (422 ``PodLogOptions``), then picks the container: the only one when
none is named, 400 ``a container name must be specified for pod <name>, choose one of: [...]``
when there are several, 400 ``container <c> is not valid for pod <name>`` for an unknown one. The
rest is the kubelet's (:class:`LogSource`): which file holds the instance asked for, or the 400 it
answers (``container "c" in pod "p" is waiting to start: ContainerCreating`` ...). A pod not yet
bound to a node has no log: an empty answer, as the apiserver gives without a node to ask.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from . import errors
from .controllers.podlogs import LogOptions, LogUnavailable

__all__ = ["LogSource", "LogUnavailable", "log_options"]

Obj = dict[str, Any]
INT64 = re.compile(r"[+-]?[0-9]+")


class LogSource(Protocol):
    """The kubelet, as the apiserver reaches it for logs."""

    node_name: str

    def log_file(self, pod: Obj, container: str, previous: bool = False) -> Path: ...

    def log_running(self, path: Path) -> bool: ...


def _flag(query: Any, key: str) -> bool:
    if key not in query:
        return False
    value = query[key]
    return not (value == "0" or value.lower() == "false")


def _int64(query: Any, key: str) -> int | None:
    if key not in query:
        return None
    value = query[key]
    if not INT64.fullmatch(value) or not -(2**63) <= int(value) < 2**63:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax')
    return int(value)


def _since_time(query: Any) -> float | None:
    value = query.get("sinceTime")
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
            raise ValueError(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise errors.bad_request(
            f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}" as "2006"'
        ) from exc


def _containers(pod: Obj) -> list[str]:
    spec = pod.get("spec") or {}
    return [
        c["name"]
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]


def _container(pod: Obj, wanted: str) -> str:
    name = pod["metadata"]["name"]
    if wanted:
        if wanted not in _containers(pod):
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted
    main = (pod.get("spec") or {}).get("containers") or []
    if len(main) == 1:
        return str(main[0]["name"])
    if not main:
        raise errors.bad_request(f"a container name must be specified for pod {name}")
    raise errors.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(_containers(pod))}]"
    )


def log_options(query: Any, pod: Obj, now: float) -> LogOptions:
    """The request's PodLogOptions for ``pod`` (``now`` turns ``sinceSeconds`` into a time)."""
    tail, limit = _int64(query, "tailLines"), _int64(query, "limitBytes")
    since_seconds, since_time = _int64(query, "sinceSeconds"), _since_time(query)
    causes = []
    if tail is not None and tail < 0:
        causes.append(errors.invalid("tailLines", tail, "must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(errors.invalid("limitBytes", limit, "must be greater than 0"))
    if since_seconds is not None and since_time is not None:
        causes.append(errors.forbidden_field("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        causes.append(errors.invalid("sinceSeconds", since_seconds, "must be greater than 0"))
    if causes:
        raise errors.invalid_object("PodLogOptions", "", pod["metadata"]["name"], causes)
    since = since_time if since_seconds is None else now - since_seconds
    return LogOptions(
        container=_container(pod, query.get("container", "")),
        previous=_flag(query, "previous"),
        follow=_flag(query, "follow"),
        timestamps=_flag(query, "timestamps"),
        tail_lines=tail,
        since=since,
        limit_bytes=limit,
    )
