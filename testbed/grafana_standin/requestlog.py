"""One JSON line per answered request, so tests can tell what a client did.

Each line: ``{"ts", "method", "path", "query", "status", "user"}``; ``user`` is the
signed-in login, or ``null``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path


class RequestLog:
    """Appends request records to a file; a log without a path records nothing."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

    def record(self, method: str, path: str, query: str, status: int,
               user: str | None) -> None:
        if self._path is None:
            return
        line = json.dumps({
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "user": user,
        })
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def read(path: Path) -> list[dict[str, object]]:
    """All records of a request log, oldest first."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
