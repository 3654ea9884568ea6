"""Watch streams: newline-delimited JSON ``{"type": ..., "object": ...}`` events.

Semantics of the apiserver's watch cache: without a resourceVersion (or with ``0``) the stream
starts with synthetic ADDED events for the current state; with resourceVersion N it replays
every event after N, or — when N is older than the retained history — sends one ERROR event
carrying a 410 Expired Status and ends. Label/field selectors turn an object leaving the
selection into DELETED and one entering it into ADDED. With ``allowWatchBookmarks`` a BOOKMARK
(only ``metadata.resourceVersion``) is sent every ``bookmark_interval`` seconds of quiet;
``sendInitialEvents=true`` ends the initial ADDED events with a bookmark annotated
``k8s.io/initial-events-end``. The stream closes after ``timeoutSeconds``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import errors
from .resources import ResourceType
from .store import Event, Store, TooOld

Obj = dict[str, Any]
Matcher = Callable[[Obj], bool]


@dataclass
class WatchOptions:
    resource_version: str = ""
    resource_version_match: str = ""
    bookmarks: bool = False
    send_initial_events: bool | None = None
    timeout: float = 1800.0
    bookmark_interval: float = 60.0


def _line(kind: str, obj: Obj) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> Obj:
    meta: Obj = {"resourceVersion": str(rv)}
    if not rt.is_custom:
        meta["creationTimestamp"] = None
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}


def transition(event: Event, matches: Matcher) -> str | None:
    """The event type a selective watcher sees, or None when it sees nothing."""
    now = matches(event.obj)
    before = event.old is not None and matches(event.old)
    if event.type == "ADDED":
        return "ADDED" if now else None
    if event.type == "DELETED":
        return "DELETED" if before else None
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    return "DELETED" if before else None


def check_options(opts: WatchOptions) -> None:
    if opts.send_initial_events is not None:
        if opts.resource_version_match != "NotOlderThan":
            raise errors.invalid_object(
                "ListOptions",
                "meta.k8s.io",
                "",
                [
                    errors.forbidden_field(
                        "sendInitialEvents",
                        "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
                    )
                ],
            )
        if opts.send_initial_events and not opts.bookmarks:
            raise errors.invalid_object(
                "ListOptions",
                "meta.k8s.io",
                "",
                [
                    errors.forbidden_field(
                        "allowWatchBookmarks",
                        "allowWatchBookmarks must be set to true when sendInitialEvents is set to true",
                    )
                ],
            )


async def serve(
    request: web.Request,
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    matches: Matcher,
    present: Callable[[Obj], Obj],
    opts: WatchOptions,
    stopping: asyncio.Event,
) -> web.StreamResponse:
    check_options(opts)
    initial: list[Obj] = []
    rv = opts.resource_version
    if rv in ("", "0") or opts.send_initial_events:
        since = store.rv
        initial = [o for o in store.items(rt.storage, namespace) if matches(o)]
    else:
        try:
            since = int(rv)
        except ValueError as exc:
            raise errors.bad_request(f"invalid resource version: {rv}") from exc
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
    )
    await response.prepare(request)
    try:
        watcher, backlog = store.watch(rt.storage, namespace, since)
    except TooOld as exc:
        status = errors.expired(str(exc)).status()
        await response.write(_line("ERROR", status))
        await response.write_eof()
        return response
    deadline = time.monotonic() + opts.timeout
    try:
        for obj in initial:
            await response.write(_line("ADDED", present(obj)))
        if opts.send_initial_events:
            await response.write(_line("BOOKMARK", _bookmark(rt, since, initial_end=True)))
        last_rv = since
        for event in backlog:
            kind = transition(event, matches)
            last_rv = event.rv
            if kind:
                await response.write(_line(kind, present(event.obj)))
        while not stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                event = await asyncio.wait_for(watcher.queue.get(), timeout=min(left, opts.bookmark_interval))
            except TimeoutError:
                if opts.bookmarks and time.monotonic() < deadline:
                    await response.write(_line("BOOKMARK", _bookmark(rt, max(last_rv, store.rv))))
                continue
            last_rv = event.rv
            kind = transition(event, matches)
            if kind:
                await response.write(_line(kind, present(event.obj)))
        await response.write_eof()
    except ConnectionResetError:
        pass
    finally:
        store.unwatch(watcher)
    return response
