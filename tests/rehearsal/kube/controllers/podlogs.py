"""Container logs as the kubelet and the container runtime keep them, and as ``pods/<name>/log``
serves them.

Where: ``<root>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log``, the layout of
/var/log/pods, one file per container instance.

What: the CRI logging format the runtime writes and the kubelet reads, one record per line,
``<RFC 3339 time, nanoseconds> <stdout|stderr> <F|P> <content>``; ``F`` ends a line, ``P`` is a
piece of a line longer than :data:`MAX_LINE`. :class:`LogWriter` copies a process's stdout and
stderr into such a file (an unterminated rest at the end of a stream becomes a full line);
:func:`read_log` and :func:`follow_log` produce what the kubelet answers for a :class:`LogOptions`
(``tailLines`` counts records from the end, then ``sinceSeconds``/``sinceTime`` drop older
records, ``timestamps`` prefixes each record's content with its time, ``limitBytes`` cuts the
answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MAX_LINE = 16 * 1024
CHUNK = 64 * 1024
FOLLOW_POLL = 0.2


def pod_log_dir(root: Path, namespace: str, name: str, uid: str) -> Path:
    return root / f"{namespace}_{name}_{uid}"


def container_log(root: Path, meta: dict[str, str], container: str, restart: int) -> Path:
    """The log of instance ``restart`` of ``container`` in the pod with metadata ``meta``."""
    directory = pod_log_dir(root, meta["namespace"], meta["name"], meta["uid"])
    return directory / container / f"{restart}.log"


def timestamp(at_ns: int) -> str:
    """RFC 3339 with nine fractional digits, UTC (the kubelet's RFC3339NanoFixed)."""
    seconds, nanos = divmod(at_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def record(at_ns: int, stream: str, content: bytes, partial: bool = False) -> bytes:
    return b"%s %s %s %s\n" % (timestamp(at_ns).encode(), stream.encode(), b"P" if partial else b"F", content)


@dataclass(frozen=True)
class Record:
    stamp: str
    at: float
    stream: str
    partial: bool
    content: bytes


def parse_record(line: bytes) -> Record | None:
    """One CRI record (without its newline); None for a line that is not one."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[2] not in (b"F", b"P"):
        return None
    stamp = parts[0].decode(errors="replace")
    try:
        seconds = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
        fraction = float("0" + stamp[19:].rstrip("Z")) if stamp[19:20] == "." else 0.0
    except ValueError:
        return None
    return Record(stamp, seconds + fraction, parts[1].decode(errors="replace"), parts[2] == b"P",
                  parts[3] if len(parts) > 3 else b"")


class LogWriter:
    """Copies a process's output streams into one CRI log file, record by record."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab", buffering=0)

    def write(self, stream: str, content: bytes, partial: bool = False) -> None:
        if not self._file.closed:
            self._file.write(record(time.time_ns(), stream, content, partial))

    async def copy(self, reader: asyncio.StreamReader, stream: str) -> None:
        """Until end of stream: complete lines as ``F`` records, over-long ones split into ``P``
        records, an unterminated rest as a final ``F`` record."""
        pending = b""
        while chunk := await reader.read(CHUNK):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._split(stream, line)
            while len(pending) >= MAX_LINE:
                self.write(stream, pending[:MAX_LINE], partial=True)
                pending = pending[MAX_LINE:]
        if pending:
            self.write(stream, pending)

    def _split(self, stream: str, line: bytes) -> None:
        while len(line) > MAX_LINE:
            self.write(stream, line[:MAX_LINE], partial=True)
            line = line[MAX_LINE:]
        self.write(stream, line)

    def close(self) -> None:
        self._file.close()


class LogUnavailable(Exception):
    """The kubelet cannot serve the log asked for; the message is its answer (400)."""


@dataclass(frozen=True)
class LogOptions:
    """What ``pods/<name>/log`` asks of the kubelet (PodLogOptions, validated)."""

    container: str = ""
    previous: bool = False
    follow: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since: float | None = None
    limit_bytes: int | None = None


def _records(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _render(lines: Iterable[bytes], options: LogOptions) -> bytes:
    out = bytearray()
    for line in lines:
        parsed = parse_record(line)
        if parsed is None:
            continue
        if options.since is not None and parsed.at < options.since:
            continue
        if options.timestamps:
            out += parsed.stamp.encode() + b" "
        out += parsed.content
        if not parsed.partial:
            out += b"\n"
    return bytes(out)


def _cut(data: bytes, budget: int | None) -> bytes:
    return data if budget is None else data[:budget]


def _tail(lines: list[bytes], tail_lines: int | None) -> list[bytes]:
    if tail_lines is None:
        return lines
    return lines[len(lines) - tail_lines:] if tail_lines else []


def read_log(path: Path, options: LogOptions) -> bytes:
    """The answer for ``options`` from the log file ``path`` as it is now."""
    lines = _tail(_records(path.read_bytes()), options.tail_lines)
    return _cut(_render(lines, options), options.limit_bytes)


async def follow_log(path: Path, options: LogOptions, running: Callable[[], bool],
                     stopping: asyncio.Event) -> AsyncIterator[bytes]:
    """``read_log``, then what is appended while the container instance runs (``follow``); ends
    when it has stopped and everything it wrote was sent, when ``limitBytes`` is reached or when
    ``stopping`` is set."""
    budget = options.limit_bytes
    with path.open("rb") as handle:
        *lines, pending = handle.read().split(b"\n")
        lines = _tail(lines, options.tail_lines)
        while True:
            out = _cut(_render(lines, options), budget)
            if out:
                yield out
                if budget is not None:
                    budget -= len(out)
            if budget is not None and budget <= 0:
                return
            chunk = handle.read()
            while not chunk:
                if not running() or stopping.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), FOLLOW_POLL)
                chunk = handle.read()
            *lines, pending = (pending + chunk).split(b"\n")
