"""Grafana's check of a dashboard's ``refresh`` against ``min_refresh_interval`` (5s).

Durations are read as Grafana's ``gtime.ParseDuration`` reads them: ``<n>d|w|M|y`` or a
Go duration such as ``30s``, ``1m30s``, ``500ms``.
"""

from __future__ import annotations

import re

from .errors import plain

MIN_REFRESH_SECONDS = 5.0

_CALENDAR = re.compile(r"(\d+)([dwMy])")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_CALENDAR_SECONDS = {"d": 86400.0, "w": 7 * 86400.0, "M": 30 * 86400.0, "y": 365 * 86400.0}
_GO_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
               "h": 3600.0}


def parse_seconds(text: str) -> float | None:
    """Seconds in ``text``, or ``None`` if Grafana could not parse it."""
    calendar = _CALENDAR.fullmatch(text)
    if calendar:
        return int(calendar[1]) * _CALENDAR_SECONDS[calendar[2]]
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        return None
    position, total = 0, 0.0
    while position < len(body):
        part = _GO_PART.match(body, position)
        if part is None:
            return None
        total += float(part[1]) * _GO_SECONDS[part[2]]
        position = part.end()
    return -total if text.startswith("-") else total


def check(refresh: object) -> None:
    """Raise what Grafana answers for a refresh interval it refuses to save."""
    if not isinstance(refresh, str) or refresh in ("", "auto"):
        return
    seconds = parse_seconds(refresh)
    if seconds is None:
        raise plain(500, "Failed to save dashboard")
    if seconds < MIN_REFRESH_SECONDS:
        raise plain(400, "Dashboard refresh interval is too low")
