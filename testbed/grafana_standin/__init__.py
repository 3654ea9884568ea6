"""The Grafana stand-in: the subset of Grafana 12's HTTP API that mlmon's roles use.

Test equipment, strict where Grafana is strict. ``create_app(GrafanaConfig(...))`` gives
the aiohttp application; ``python -m testbed.grafana_standin`` runs it as a process.
"""

from .auth import AdminCredentials
from .config import GrafanaConfig
from .server import create_app

__all__ = ["AdminCredentials", "GrafanaConfig", "create_app"]
