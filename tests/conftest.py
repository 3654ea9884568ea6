"""Fixtures shared by the whole suite: the rehearsal servers, run as real processes on loopback."""

pytest_plugins = ["tests.rehearsal.fixtures", "tests.rehearsal.grafana_fixtures"]
