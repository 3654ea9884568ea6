"""A list-and-watch cache of one resource, as client-go's informers keep one.

The informer lists, then watches from the list's resourceVersion; when the watch ends it resumes
from the last resourceVersion it saw (bookmarks included), and when the server answers 410 Expired
it lists again and reports the difference as ADDED/MODIFIED/DELETED to its handlers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp

from ..client import ApiClient, Kind, KubeError
from .meta import Obj, key_of

Handler = Callable[[str, Obj | None, Obj | None], None]
log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class Informer:
    def __init__(self, api: ApiClient, kind: Kind, *, field_selector: str = "") -> None:
        self.api = api
        self.kind = kind
        self.field_selector = field_selector
        self.synced = asyncio.Event()
        self._items: dict[tuple[str, str], Obj] = {}
        self._handlers: list[Handler] = []
        self._rv = ""

    def on_change(self, handler: Handler) -> None:
        """``handler(type, old, new)`` runs for every change, after the cache is updated."""
        self._handlers.append(handler)

    def get(self, namespace: str, name: str) -> Obj | None:
        return self._items.get((namespace, name))

    def items(self, namespace: str | None = None) -> list[Obj]:
        return [o for (ns, _), o in self._items.items() if namespace is None or ns == namespace]

    async def run(self) -> None:
        while True:
            try:
                if not self._rv:
                    await self._relist()
                await self._watch()
            except KubeError as err:
                if err.expired:
                    self._rv = ""
                    continue
                log.warning("watch %s: %s", self.kind.plural, err)
                await asyncio.sleep(RETRY_SECONDS)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
                log.debug("watch %s interrupted: %s", self.kind.plural, err)
                await asyncio.sleep(RETRY_SECONDS)

    async def _relist(self) -> None:
        items, rv = await self.api.list(self.kind, field_selector=self.field_selector)
        fresh = {key_of(o): o for o in items}
        old = self._items
        self._items = fresh
        self._rv = rv
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                self._notify("ADDED", None, obj)
            elif _rv(before) != _rv(obj):
                self._notify("MODIFIED", before, obj)
        for key, obj in old.items():
            if key not in fresh:
                self._notify("DELETED", obj, None)
        self.synced.set()

    async def _watch(self) -> None:
        async for event in self.api.watch(
            self.kind, None, self._rv, field_selector=self.field_selector
        ):
            obj = event["object"]
            self._rv = obj["metadata"].get("resourceVersion") or self._rv
            kind = event["type"]
            if kind == "BOOKMARK":
                continue
            key = key_of(obj)
            before = self._items.get(key)
            if kind == "DELETED":
                self._items.pop(key, None)
                self._notify("DELETED", before or obj, None)
            else:
                self._items[key] = obj
                self._notify("ADDED" if before is None else "MODIFIED", before, obj)

    def _notify(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        for handler in self._handlers:
            handler(kind, old, new)


def _rv(obj: Obj) -> str:
    return str(obj["metadata"].get("resourceVersion", ""))
