"""Provisioned datasources: kube-prometheus-stack's defaults, or a provisioning file.

By default the server holds what kube-prometheus-stack's sidecar provisions for release
``prom`` in namespace ``monitoring`` (template ``kube-prometheus-stack.grafana.datasources``):
``Prometheus`` (uid ``prometheus``, default) and ``Alertmanager`` (uid ``alertmanager``).
A file in Grafana's provisioning format (``apiVersion: 1``, ``datasources: [...]``)
replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .gojson import go_map
from .naming import new_uid

DEFAULT_PROVISIONING: dict[str, object] = {
    "apiVersion": 1,
    "datasources": [
        {
            "name": "Prometheus",
            "type": "prometheus",
            "uid": "prometheus",
            "url": "http://prom-kube-prometheus-stack-prometheus.monitoring:9090/",
            "access": "proxy",
            "isDefault": True,
            "jsonData": {"httpMethod": "POST", "timeInterval": "30s"},
        },
        {
            "name": "Alertmanager",
            "type": "alertmanager",
            "uid": "alertmanager",
            "url": "http://prom-kube-prometheus-stack-alertmanager.monitoring:9093/",
            "access": "proxy",
            "isDefault": False,
            "jsonData": {"handleGrafanaManagedAlerts": False, "implementation": "prometheus"},
        },
    ],
}

_TYPE_NAMES = {"prometheus": "Prometheus", "alertmanager": "Alertmanager", "loki": "Loki"}
_LOGOS = {
    "prometheus": "public/app/plugins/datasource/prometheus/img/prometheus_logo.svg",
    "alertmanager": "public/app/plugins/datasource/alertmanager/img/logo.svg",
    "loki": "public/app/plugins/datasource/loki/img/loki_icon.svg",
}


class ProvisioningError(ValueError):
    """The provisioning file is one Grafana would refuse at startup."""


@dataclass(frozen=True)
class DataSource:
    id: int
    uid: str
    name: str
    type: str
    url: str
    access: str
    is_default: bool
    user: str = ""
    database: str = ""
    basic_auth: bool = False
    basic_auth_user: str = ""
    with_credentials: bool = False
    json_data: dict[str, object] = field(default_factory=dict)
    secure_fields: tuple[str, ...] = ()
    version: int = 1


def load(path: Path | None) -> list[DataSource]:
    """Datasources from ``path``, or kube-prometheus-stack's defaults without one."""
    if path is None:
        return parse(DEFAULT_PROVISIONING)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ProvisioningError(f"cannot read datasource provisioning file {path}: {error}") \
            from error
    return parse(document)


def parse(document: object) -> list[DataSource]:
    """Validate a provisioning document the way Grafana's provisioner does."""
    if not isinstance(document, dict):
        raise ProvisioningError("datasource provisioning file must be a mapping")
    if document.get("apiVersion") != 1:
        raise ProvisioningError("datasource provisioning file must have apiVersion: 1")
    entries = document.get("datasources") or []
    if not isinstance(entries, list):
        raise ProvisioningError("datasources must be a list")
    sources = [_entry(index, entry) for index, entry in enumerate(entries, start=1)]
    if sum(source.is_default for source in sources) > 1:
        raise ProvisioningError("datasource.yaml config is invalid. Only one datasource per "
                                "organization can be marked as default")
    for kind, values in (("name", [s.name for s in sources]), ("uid", [s.uid for s in sources])):
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise ProvisioningError(f"datasource {kind} provisioned twice: {duplicates}")
    return sources


def _entry(index: int, entry: object) -> DataSource:
    if not isinstance(entry, dict):
        raise ProvisioningError(f"datasource #{index} must be a mapping")
    name = entry.get("name")
    kind = entry.get("type")
    if not isinstance(name, str) or not name:
        raise ProvisioningError(f"datasource #{index} has no name")
    if not isinstance(kind, str) or not kind:
        raise ProvisioningError(f"datasource {name!r} has no type")
    json_data = entry.get("jsonData") or {}
    secure = entry.get("secureJsonData") or {}
    if not isinstance(json_data, dict) or not isinstance(secure, dict):
        raise ProvisioningError(f"datasource {name!r}: jsonData and secureJsonData are maps")
    return DataSource(
        id=index,
        uid=str(entry.get("uid") or new_uid()),
        name=name,
        type=kind,
        url=str(entry.get("url") or ""),
        access=str(entry.get("access") or "proxy"),
        is_default=bool(entry.get("isDefault", False)),
        user=str(entry.get("user") or ""),
        database=str(entry.get("database") or ""),
        basic_auth=bool(entry.get("basicAuth", False)),
        basic_auth_user=str(entry.get("basicAuthUser") or ""),
        with_credentials=bool(entry.get("withCredentials", False)),
        json_data=json_data,
        secure_fields=tuple(sorted(secure)),
        version=int(entry.get("version") or 1),
    )


def list_item(source: DataSource) -> dict[str, object]:
    """``DataSourceListItemDTO`` (an item of ``GET /api/datasources``)."""
    return {
        "id": source.id,
        "uid": source.uid,
        "orgId": 1,
        "name": source.name,
        "type": source.type,
        "typeName": _TYPE_NAMES.get(source.type, source.type),
        "typeLogoUrl": _LOGOS.get(source.type, ""),
        "access": source.access,
        "url": source.url,
        "user": source.user,
        "database": source.database,
        "basicAuth": source.basic_auth,
        "isDefault": source.is_default,
        "jsonData": go_map(source.json_data),
        "readOnly": True,
    }


def detail(source: DataSource) -> dict[str, object]:
    """``dtos.DataSource`` (``GET /api/datasources/uid/:uid`` and ``/name/:name``)."""
    return {
        "id": source.id,
        "uid": source.uid,
        "orgId": 1,
        "name": source.name,
        "type": source.type,
        "typeLogoUrl": _LOGOS.get(source.type, ""),
        "access": source.access,
        "url": source.url,
        "user": source.user,
        "database": source.database,
        "basicAuth": source.basic_auth,
        "basicAuthUser": source.basic_auth_user,
        "withCredentials": source.with_credentials,
        "isDefault": source.is_default,
        "jsonData": go_map(source.json_data),
        "secureJsonFields": {key: True for key in source.secure_fields},
        "version": source.version,
        "readOnly": True,
    }
