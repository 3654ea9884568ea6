"""Column: rehearsal. The controllers' REST client, informer and work queue, against a small
in-test aiohttp server that answers as kube-apiserver does (paged lists, Status errors, a watch
stream ending in a 410 Expired ERROR event)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from tests.rehearsal.kube.client import PODS, ApiClient, KubeError
from tests.rehearsal.kube.controllers.informer import Informer
from tests.rehearsal.kube.controllers.workqueue import WorkQueue, drain

TOKEN = "t0ken"
Obj = dict[str, Any]


def pod(name: str, rv: int) -> Obj:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)}}


def status(code: int, reason: str, message: str) -> web.Response:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "reason": reason, "code": code}
    return web.json_response(body, status=code)


class FakeApiServer:
    """Pods a, b at first; after the first watch (one MODIFIED event, then 410) b is gone."""

    def __init__(self) -> None:
        self.lists = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.auth])
        app.router.add_get("/api/v1/pods", self.list_or_watch)
        app.router.add_post("/api/v1/namespaces/ns/pods", self.create)
        app.router.add_put("/api/v1/namespaces/ns/pods/{name}", self.update)
        return app

    @web.middleware
    async def auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.query)))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return status(401, "Unauthorized", "Unauthorized")
        return await handler(request)

    async def list_or_watch(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") == "true":
            return await self.watch(request)
        self.lists += 1
        if self.lists == 1 and "continue" not in request.query:
            return web.json_response({"items": [pod("a", 1)],
                                      "metadata": {"resourceVersion": "5", "continue": "next"}})
        if self.lists <= 2:
            return web.json_response({"items": [pod("b", 2)], "metadata": {"resourceVersion": "5"}})
        return web.json_response({"items": [pod("a", 9)], "metadata": {"resourceVersion": "20"}})

    async def watch(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        if request.query["resourceVersion"] == "5":
            events = [{"type": "MODIFIED", "object": pod("a", 6)},
                      {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "7"}}}]
        elif request.query["resourceVersion"] == "7":
            events = [{"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                                   "reason": "Expired", "message": "too old"}}]
        else:
            await asyncio.sleep(0.1)
            events = []
        for event in events:
            await resp.write(json.dumps(event).encode() + b"\n")
        return resp

    async def create(self, _request: web.Request) -> web.Response:
        return status(409, "AlreadyExists", 'pods "a" already exists')

    async def update(self, _request: web.Request) -> web.Response:
        return status(409, "Conflict", "the object has been modified")


@asynccontextmanager
async def serve(fake: FakeApiServer) -> AsyncIterator[str]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_lists_follow_continue_and_errors_carry_the_status() -> None:
    fake = FakeApiServer()

    async def scenario() -> tuple[list[Obj], str, KubeError, KubeError, KubeError]:
        async with serve(fake) as url, ApiClient(url, TOKEN) as api:
            items, rv = await api.list(PODS, label_selector="app=web")
            with pytest.raises(KubeError) as exists:
                await api.create(PODS, "ns", pod("a", 0))
            with pytest.raises(KubeError) as conflict:
                await api.replace(PODS, pod("a", 1))
            async with ApiClient(url, "wrong") as stranger:
                with pytest.raises(KubeError) as denied:
                    await stranger.get(PODS, "ns", "a")
            return items, rv, exists.value, conflict.value, denied.value

    items, rv, exists, conflict, denied = asyncio.run(scenario())
    assert [p["metadata"]["name"] for p in items] == ["a", "b"] and rv == "5"
    assert fake.requests[1][2] == {"labelSelector": "app=web", "continue": "next"}
    assert exists.already_exists and not exists.conflict
    assert conflict.conflict and not conflict.already_exists
    assert denied.code == 401


def test_informer_watches_and_relists_after_expired() -> None:
    fake = FakeApiServer()
    seen: list[tuple[str, str, str]] = []

    def record(kind: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        assert obj is not None
        seen.append((kind, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))

    async def scenario() -> Informer:
        async with serve(fake) as url, ApiClient(url, TOKEN) as api:
            informer = Informer(api, PODS)
            informer.on_change(record)
            task = asyncio.create_task(informer.run())
            for _ in range(200):
                if len(seen) >= 5:
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            return informer

    informer = asyncio.run(scenario())
    assert seen == [
        ("ADDED", "a", "1"), ("ADDED", "b", "2"), ("MODIFIED", "a", "6"),
        ("MODIFIED", "a", "9"), ("DELETED", "b", "2"),
    ]
    assert [p["metadata"]["name"] for p in informer.items("ns")] == ["a"]


def test_work_queue_hands_a_key_to_one_sync_at_a_time() -> None:
    async def scenario() -> list[str]:
        queue: WorkQueue[str] = WorkQueue()
        order: list[str] = []
        release = asyncio.Event()

        async def sync(key: str) -> None:
            order.append(key)
            if len(order) == 1:
                queue.add("a")
                queue.add("a")
                await release.wait()

        worker = asyncio.create_task(drain(queue, sync, "test"))
        queue.add("a")
        queue.add("b")
        queue.add_after("c", 10)
        queue.add_after("c", 0.01)
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.sleep(0.05)
        worker.cancel()
        return order

    assert asyncio.run(scenario()) == ["a", "b", "c", "a"]
