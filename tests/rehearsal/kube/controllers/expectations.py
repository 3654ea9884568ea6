"""Controller expectations (pkg/controller/controller_utils.go): after creating or deleting pods,
a ReplicaSet is not resized again until its informer has seen those creations and deletions, so
a stale cache never makes it create or delete twice. Expectations expire after five minutes."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field

TTL_SECONDS = 300.0


@dataclass
class _Expected:
    adds: int = 0
    deleting: set[str] = field(default_factory=set)
    since: float = field(default_factory=time.monotonic)


class Expectations:
    def __init__(self) -> None:
        self._by_key: dict[Hashable, _Expected] = {}

    def satisfied(self, key: Hashable) -> bool:
        expected = self._by_key.get(key)
        if expected is None:
            return True
        if expected.adds <= 0 and not expected.deleting:
            return True
        return time.monotonic() - expected.since > TTL_SECONDS

    def expect_creations(self, key: Hashable, count: int) -> None:
        self._by_key[key] = _Expected(adds=count)

    def expect_deletions(self, key: Hashable, uids: set[str]) -> None:
        self._by_key[key] = _Expected(deleting=set(uids))

    def creation_observed(self, key: Hashable) -> None:
        expected = self._by_key.get(key)
        if expected is not None:
            expected.adds -= 1

    def deletion_observed(self, key: Hashable, uid: str) -> None:
        expected = self._by_key.get(key)
        if expected is not None:
            expected.deleting.discard(uid)

    def forget(self, key: Hashable) -> None:
        self._by_key.pop(key, None)
