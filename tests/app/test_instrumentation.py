"""The HTTP middleware (``house_price.instrumentation``) around a small FastAPI app, driven through ASGI.

Real: the service's own middleware and FastAPI's stack in one process, requests made as ASGI calls
with the headers each test needs (no server, no cluster).
"""

import asyncio
from collections.abc import Iterator
from contextlib import suppress

import pytest
from fastapi import FastAPI
from house_price import instrumentation
from prometheus_client import CollectorRegistry
from starlette.types import Message

Headers = list[tuple[bytes, bytes]]


class _Served:
    """An app with ``/wait`` (answers once ``release`` is set), ``/fail`` (raises) and ``/size``."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.app = FastAPI()
        self.registry = CollectorRegistry()

        @self.app.post("/wait")
        async def wait() -> dict[str, str]:
            self.entered.set()
            await self.release.wait()
            return {"waited": "yes"}

        @self.app.post("/fail")
        async def fail() -> None:
            raise RuntimeError("the route failed")

        @self.app.get("/size")
        async def size() -> dict[str, int]:
            return {"size": 1}

        instrumentation.instrument(self.app, self.registry)

    async def call(self, method: str, path: str, headers: Headers = ()) -> int:
        """The status the app answered; an error the app raised after answering 500 is swallowed."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": list(headers),
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        with suppress(RuntimeError):
            await self.app(scope, receive, send)
        return int(sent[0]["status"])

    def value(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


@pytest.fixture
def fresh_lengths(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[bytes, int]]:
    """The parsed Content-Length values, empty for the test."""
    lengths: dict[bytes, int] = {}
    monkeypatch.setattr(instrumentation, "_LENGTHS", lengths)
    yield lengths


def test_in_progress_counts_a_request_from_its_start_until_it_is_answered() -> None:
    """The gauge is derived at the scrape (started less answered): 1 while the route waits, 0 after,
    and a request that raised counts as answered (500) too."""

    async def scenario() -> list[float | None]:
        served = _Served()
        labels = {"handler": "/wait", "method": "POST"}
        waiting = asyncio.create_task(served.call("POST", "/wait"))
        await served.entered.wait()
        during = served.value("http_requests_inprogress", **labels)
        served.release.set()
        assert await waiting == 200
        after = served.value("http_requests_inprogress", **labels)
        assert await served.call("POST", "/fail") == 500
        failed = served.value("http_requests_inprogress", handler="/fail", method="POST")
        errors = served.value("http_requests_total", handler="/fail", method="POST", status="5xx")
        return [during, after, failed, errors]

    assert asyncio.run(scenario()) == [1.0, 0.0, 0.0, 1.0]


def test_request_sizes_are_the_content_lengths_zero_when_not_a_number(fresh_lengths: dict[bytes, int]) -> None:
    """Every request is counted; only a Content-Length that is a number adds to the sum, however often
    the same value comes (the parsed values are kept)."""

    async def scenario() -> _Served:
        served = _Served()
        for headers in (
            [(b"host", b"x"), (b"content-length", b"12")],
            [(b"content-length", b"12")],
            [(b"content-length", b"abc")],
            [(b"content-length", b"-3")],
            [(b"host", b"x")],
            [(b"content-length", b"12"), (b"content-length", b"1000")],  # the first one counts
        ):
            assert await served.call("GET", "/size", headers) == 200
        return served

    served = asyncio.run(scenario())
    assert served.value("http_request_size_bytes_count", handler="/size") == 6
    assert served.value("http_request_size_bytes_sum", handler="/size") == 36
    assert served.value("http_response_size_bytes_sum", handler="/size") == 6 * len(b'{"size":1}')
    assert fresh_lengths == {b"12": 12, b"abc": 0, b"-3": 0, b"10": 10}  # b"10": the responses'


def test_parsed_content_lengths_kept_are_bounded(
    fresh_lengths: dict[bytes, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients choose the values: past LENGTHS_KEPT, values are parsed and counted without being kept."""
    monkeypatch.setattr(instrumentation, "LENGTHS_KEPT", 3)

    async def scenario() -> _Served:
        served = _Served()
        for size in range(1, 11):
            assert await served.call("GET", "/size", [(b"content-length", str(size).encode())]) == 200
        return served

    served = asyncio.run(scenario())
    assert served.value("http_request_size_bytes_sum", handler="/size") == sum(range(1, 11))
    assert len(fresh_lengths) == 3
