"""core/v1 Events as client-go's event recorder writes them.

An Event is named ``<object>.<hex unix nanoseconds>`` in the object's namespace, carries
``source``/``reportingComponent`` and ``firstTimestamp``/``lastTimestamp``/``count``. A repeat
of the same (object, type, reason, message) from the same source bumps ``count`` and
``lastTimestamp`` of the existing Event with a patch, as client-go's EventCorrelator does.
Recording never blocks the caller and never fails it: events are best effort, as upstream.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from ..client import EVENTS, ApiClient, Kind, KubeError
from .meta import Obj, rfc3339

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
REMEMBERED = 4096


class EventRecorder:
    def __init__(self, api: ApiClient, component: str, host: str = "") -> None:
        self.api = api
        self.component = component
        self.host = host
        self._seen: dict[tuple[str, ...], tuple[str, str, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def record(
        self, kind: Kind, obj: Obj, type_: str, reason: str, message: str, field_path: str = ""
    ) -> None:
        meta = obj["metadata"]
        involved = {
            "kind": kind.kind,
            "namespace": meta.get("namespace", ""),
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": kind.api_version,
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        involved = {k: v for k, v in involved.items() if v}
        task = asyncio.get_running_loop().create_task(self._write(involved, type_, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, involved: Obj, type_: str, reason: str, message: str) -> None:
        namespace = involved.get("namespace") or "default"
        key = (
            involved["kind"], namespace, involved["name"], involved.get("uid", ""),
            involved.get("fieldPath", ""), type_, reason, message,
        )
        stamp = rfc3339()
        try:
            async with self._lock:
                seen = self._seen.get(key)
                if seen is not None:
                    name, ns, count = seen
                    try:
                        await self.api.patch(
                            EVENTS, ns, name, {"count": count + 1, "lastTimestamp": stamp}
                        )
                        self._seen[key] = (name, ns, count + 1)
                        return
                    except KubeError as err:
                        if not err.not_found:
                            raise
                event = self._event(involved, namespace, type_, reason, message, stamp)
                created = await self.api.create(EVENTS, namespace, event)
                self._seen[key] = (created["metadata"]["name"], namespace, 1)
                if len(self._seen) > REMEMBERED:
                    del self._seen[next(iter(self._seen))]
        except (KubeError, aiohttp.ClientError, OSError, TimeoutError) as err:
            log.debug("event %s %s not recorded: %s", reason, involved["name"], err)

    def _event(
        self, involved: Obj, namespace: str, type_: str, reason: str, message: str, stamp: str
    ) -> Obj:
        source = {"component": self.component}
        if self.host:
            source["host"] = self.host
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{involved['name']}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type_,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }

    async def close(self) -> None:
        """Drop the events not written yet (the component is stopping)."""
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
