"""A bad release on purpose, for canary drills: ``MLMON_DRILL_ERROR_RATIO`` and ``MLMON_DRILL_LATENCY_SECONDS``.

Only the prediction routes are affected, never the probes nor /metrics: a drill release starts, turns ready
and is scraped like a good one, then answers worse, which is what a canary analysis has to catch.
``add_drill`` adds nothing when neither setting is given (the default).

Deterministic, so a test can count on it: with ratio r, the n-th prediction request of the process (counted
from 1) is answered 500 when floor(n * r) > floor((n - 1) * r), i.e. every k-th request for r = 1/k and
exactly floor(n * r) of the first n in general. The added latency delays every prediction request, the 500s
included, before the route runs.
"""

import asyncio
import json
from collections.abc import Collection
from fractions import Fraction
from math import floor

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from house_price.config import Settings

BODY = json.dumps({"detail": "drill: this release answers a share of requests 500 (MLMON_DRILL_ERROR_RATIO)"}).encode()


class DrillMiddleware:
    """Pure ASGI middleware: delay, and answer every k-th request 500, on ``paths`` only."""

    def __init__(self, app: ASGIApp, *, paths: Collection[str], error_ratio: float, latency_seconds: float) -> None:
        self._app = app
        self._paths = frozenset(paths)
        # The decimal the user wrote, exactly: 0.29 * 100 in floats is 28.999...
        self._ratio = Fraction(str(error_ratio))
        self._latency = latency_seconds
        self._seen = 0

    def fails(self) -> bool:
        """Count one request; whether it is one of the share answered 500."""
        self._seen += 1
        return floor(self._seen * self._ratio) > floor((self._seen - 1) * self._ratio)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        failing = self.fails()
        if self._latency:
            await asyncio.sleep(self._latency)
        if not failing:
            await self._app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})


def add_drill(app: FastAPI, settings: Settings, paths: Collection[str]) -> None:
    """Make ``paths`` of ``app`` fail and slow down as the drill settings say; nothing when they are unset."""
    if settings.drill_error_ratio or settings.drill_latency_seconds:
        app.add_middleware(
            DrillMiddleware,
            paths=paths,
            error_ratio=settings.drill_error_ratio,
            latency_seconds=settings.drill_latency_seconds,
        )
