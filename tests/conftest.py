"""Fixtures shared by the whole suite: the Grafana stand-in (testbed/), run as a real process on loopback."""

pytest_plugins = ["tests.testbed.fixtures"]
