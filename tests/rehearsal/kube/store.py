"""In-memory object storage with one cluster-wide resourceVersion and a bounded event history.

Objects are plain JSON dicts stored per storage key ``(group, plural)`` and ``(namespace, name)``;
a stored dict is never mutated afterwards (writers always store a fresh copy), so readers and
watch events may share it. Every write takes the next resourceVersion, like etcd's revision.
The history keeps the last ``history_size`` events: a watch from a resourceVersion older than
that gets 410 Expired, as a compacted etcd makes the real apiserver answer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
Storage = tuple[str, str]


@dataclass(frozen=True)
class Event:
    type: str  # ADDED, MODIFIED or DELETED
    storage: Storage
    obj: Obj
    old: Obj | None
    rv: int

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace", "")


@dataclass(eq=False)
class Watcher:
    storage: Storage
    namespace: str | None
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    def wants(self, event: Event) -> bool:
        return event.storage == self.storage and (self.namespace is None or event.namespace == self.namespace)


class TooOld(Exception):
    """The requested resourceVersion is older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


class Store:
    def __init__(self, history_size: int = 2000, first_rv: int = 1) -> None:
        self._objects: dict[Storage, dict[tuple[str, str], Obj]] = {}
        self._history: deque[Event] = deque()
        self._history_size = history_size
        self._compacted = first_rv
        self._rv = first_rv
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Event], None]] = []

    @property
    def rv(self) -> int:
        return self._rv

    def get(self, storage: Storage, namespace: str, name: str) -> Obj | None:
        return self._objects.get(storage, {}).get((namespace, name))

    def items(self, storage: Storage, namespace: str | None = None) -> list[Obj]:
        bucket = self._objects.get(storage, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [bucket[k] for k in keys]

    def all_items(self) -> Iterator[tuple[Storage, Obj]]:
        for storage, bucket in list(self._objects.items()):
            for obj in list(bucket.values()):
                yield storage, obj

    def count(self) -> int:
        return sum(len(b) for b in self._objects.values())

    def put(self, storage: Storage, obj: Obj) -> Obj:
        """Store ``obj`` (create or replace) under the next resourceVersion; returns it."""
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        bucket = self._objects.setdefault(storage, {})
        key = _key(obj)
        old = bucket.get(key)
        bucket[key] = obj
        self._record(Event("MODIFIED" if old else "ADDED", storage, obj, old, self._rv))
        return obj

    def remove(self, storage: Storage, namespace: str, name: str) -> Obj | None:
        """Delete an object; the DELETED event carries the deletion's resourceVersion."""
        bucket = self._objects.get(storage, {})
        old = bucket.pop((namespace, name), None)
        if old is None:
            return None
        self._rv += 1
        gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv)}}
        self._record(Event("DELETED", storage, gone, old, self._rv))
        return gone

    def _record(self, event: Event) -> None:
        self._history.append(event)
        while len(self._history) > self._history_size:
            self._compacted = self._history.popleft().rv
        for watcher in list(self._watchers):
            if watcher.wants(event):
                watcher.queue.put_nowait(event)
        for listener in self._listeners:
            listener(event)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def watch(self, storage: Storage, namespace: str | None, since: int) -> tuple[Watcher, list[Event]]:
        """Subscribe to events after resourceVersion ``since``; returns the backlog too."""
        if since < self._compacted:
            raise TooOld(since, self._compacted + 1)
        watcher = Watcher(storage, namespace)
        backlog = [e for e in self._history if e.rv > since and watcher.wants(e)]
        self._watchers.add(watcher)
        return watcher, backlog

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)
