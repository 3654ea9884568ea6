"""client-go's flowcontrol.Backoff as the kubelet uses it for image pulls and crash loops: each
failure doubles the delay up to a maximum; an entry untouched for twice the maximum starts over."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    @staticmethod
    def clock() -> float:
        return time.time()

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def delay(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.initial, self.clock())
            return
        entry.delay = min(entry.delay * 2, self.maximum)
        entry.last_update = self.clock()

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether less than the current delay has passed since ``event_time``."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self.clock() - event_time < entry.delay

    def in_backoff_since_update(self, key: str) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(self.clock(), entry):
            return False
        return self.clock() - entry.last_update < entry.delay

    def ready_since_update(self, key: str) -> float:
        """When ``in_backoff_since_update(key)`` turns false."""
        entry = self._entries.get(key)
        return entry.last_update + entry.delay if entry else self.clock()

    def ready_at(self, key: str, event_time: float) -> float:
        """When ``in_backoff_since(key, event_time)`` turns false."""
        entry = self._entries.get(key)
        return event_time + entry.delay if entry else event_time

    def forget(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
