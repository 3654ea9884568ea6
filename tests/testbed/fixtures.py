"""pytest fixtures for the Grafana stand-in, run as a real process on loopback.

* ``grafana_standin``: a fresh server (empty state) for one test;
* ``shared_grafana_standin``: one server for a whole module (tests use distinct uids).

Each yields a :class:`~testbed.grafana_standin.launcher.GrafanaStandin` (``url``,
``admin_user``, ``admin_password``, ``request_log``); teardown sends SIGTERM and waits.
Register with ``pytest_plugins = ["tests.testbed.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.grafana_standin.launcher import GrafanaStandin, running_grafana


@pytest.fixture
def grafana_standin(tmp_path: Path) -> Iterator[GrafanaStandin]:
    """A fresh Grafana stand-in (empty state) for one test."""
    with running_grafana(tmp_path / "grafana") as grafana:
        yield grafana


@pytest.fixture(scope="module")
def shared_grafana_standin(tmp_path_factory: pytest.TempPathFactory,
                             ) -> Iterator[GrafanaStandin]:
    """One Grafana stand-in for a whole test module (tests must use distinct uids)."""
    with running_grafana(tmp_path_factory.mktemp("grafana")) as grafana:
        yield grafana
