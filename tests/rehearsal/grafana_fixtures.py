"""pytest fixtures for the rehearsal Grafana, run as a real process on loopback.

* ``rehearsal_grafana``: a fresh server (empty state) for one test;
* ``shared_rehearsal_grafana``: one server for a whole module (tests use distinct uids).

Each yields a :class:`~tests.rehearsal.grafana.launcher.RehearsalGrafana` (``url``,
``admin_user``, ``admin_password``, ``request_log``); teardown sends SIGTERM and waits.
Register with ``pytest_plugins = ["tests.rehearsal.grafana_fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rehearsal.grafana.launcher import RehearsalGrafana, running_grafana


@pytest.fixture
def rehearsal_grafana(tmp_path: Path) -> Iterator[RehearsalGrafana]:
    """A fresh rehearsal Grafana (empty state) for one test."""
    with running_grafana(tmp_path / "grafana") as grafana:
        yield grafana


@pytest.fixture(scope="module")
def shared_rehearsal_grafana(tmp_path_factory: pytest.TempPathFactory,
                             ) -> Iterator[RehearsalGrafana]:
    """One rehearsal Grafana for a whole test module (tests must use distinct uids)."""
    with running_grafana(tmp_path_factory.mktemp("grafana")) as grafana:
        yield grafana
