"""Settings of one Grafana stand-in, read the way the Grafana image reads them.

The admin user comes from ``GF_SECURITY_ADMIN_USER`` (default ``admin``) and the password
from ``GF_SECURITY_ADMIN_PASSWORD``. As in the image's ``run.sh``, ``<NAME>__FILE`` names a
file holding the value. Unlike Grafana there is no default password: kube-prometheus-stack
(since chart 79) sets it from a Secret, and a stand-in without one must not start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .auth import AdminCredentials

GRAFANA_VERSION = "12.3.0"
GRAFANA_COMMIT = "standin"


class ConfigError(ValueError):
    """The environment or the files given cannot configure a server."""


@dataclass(frozen=True)
class GrafanaConfig:
    admin: AdminCredentials
    request_log: Path | None = None
    datasources: Path | None = None
    unhealthy_for: float = 0.0
    version: str = GRAFANA_VERSION
    commit: str = GRAFANA_COMMIT


def admin_from_environment(environ: Mapping[str, str]) -> AdminCredentials:
    """Admin credentials from ``GF_SECURITY_ADMIN_*``; raises without a password."""
    login = _setting(environ, "GF_SECURITY_ADMIN_USER") or "admin"
    password = _setting(environ, "GF_SECURITY_ADMIN_PASSWORD")
    if not password:
        raise ConfigError(
            "GF_SECURITY_ADMIN_PASSWORD is not set: the Grafana stand-in has no default "
            "admin password (kube-prometheus-stack sets it from a Secret, e.g. "
            "grafana.admin.existingSecret); set it or GF_SECURITY_ADMIN_PASSWORD__FILE")
    return AdminCredentials(login=login, password=password)


def _setting(environ: Mapping[str, str], name: str) -> str:
    file_name = environ.get(f"{name}__FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{name}__FILE: cannot read {file_name}: {error}") from error
    return environ.get(name, "")
