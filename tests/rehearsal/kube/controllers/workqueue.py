"""A de-duplicating work queue of object keys with delayed re-adds, and the loop that drains it.

As client-go's workqueue: a key is handed to one sync at a time; a key added while it is being
synced is processed again afterwards; a failed sync is retried with a growing delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import aiohttp

from ..client import KubeError

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)

FIRST_RETRY = 0.05
MAX_RETRY = 5.0


class WorkQueue(Generic[K]):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._dirty: set[K] = set()
        self._active: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._failures: dict[K, int] = {}

    def add(self, key: K) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._active:
            self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Add ``key`` after ``delay`` seconds; an earlier pending add wins."""
        loop = asyncio.get_running_loop()
        when = loop.time() + max(delay, 0.0)
        timer = self._timers.get(key)
        if timer is not None and timer.when() <= when:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def get(self) -> K:
        key = await self._queue.get()
        self._dirty.discard(key)
        self._active.add(key)
        return key

    def done(self, key: K) -> None:
        self._active.discard(key)
        if key in self._dirty:
            self._queue.put_nowait(key)

    def retry(self, key: K) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, min(FIRST_RETRY * 2**failures, MAX_RETRY))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


async def drain(
    queue: WorkQueue[K], sync: Callable[[K], Awaitable[None]], name: str
) -> None:
    """Run ``sync`` for each queued key until cancelled; retry keys whose sync failed."""
    try:
        while True:
            key = await queue.get()
            try:
                await sync(key)
            except KubeError as err:
                if not err.conflict:
                    log.info("%s: sync %s: %s", name, key, err)
                queue.retry(key)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                log.info("%s: sync %s: %s", name, key, err)
                queue.retry(key)
            except Exception:
                log.exception("%s: sync %s failed", name, key)
                queue.retry(key)
            else:
                queue.forget(key)
            finally:
                queue.done(key)
    finally:
        queue.close()
