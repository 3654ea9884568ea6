"""Write values.schema.json of the stand-in kube-prometheus-stack chart from its values.yaml.

Every key of the stand-in's values.yaml becomes a property with the type of its default, every
object of keys gets ``additionalProperties: false`` (so a misspelled key fails ``helm template`` and
``helm install`` naming it), and the tables below add what defaults cannot say: free-form maps
(labels, resources, selectors...), item types of lists, nullable keys, a few enums, and keys the
real chart reads without a default in its values.yaml (``grafana.adminPassword``,
``grafana.service.nodePort``...). VALUES.md says where each key was checked in the real chart.

Run ``python tests/charts/gen_values_schema.py`` after changing values.yaml; a test fails when the
committed schema differs from what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

Schema = dict[str, Any]

CHART = Path(__file__).parent / "kube-prometheus-stack"

ANY_OBJECT: Schema = {"type": "object"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_LIST: Schema = {"type": "array", "items": {"type": "object"}}
STRING_LIST: Schema = {"type": "array", "items": {"type": "string"}}
SERVICE_TYPE: Schema = {"type": "string",
                        "enum": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]}

# Keys whose value is free-form (Kubernetes objects, maps, lists) rather than a set of chart keys.
FREE_FORM: dict[str, Schema] = {
    "commonLabels": STRING_MAP,
    "global.imagePullSecrets": {"type": "array",
                                "items": {"type": ["string", "object"]}},
    "defaultRules.labels": STRING_MAP,
    "defaultRules.annotations": STRING_MAP,
    "alertmanager.serviceAccount.annotations": STRING_MAP,
    "alertmanager.config": ANY_OBJECT,
    "alertmanager.service.type": SERVICE_TYPE,
    "alertmanager.alertmanagerSpec.externalUrl": {"type": ["string", "null"]},
    "alertmanager.alertmanagerSpec.resources": ANY_OBJECT,
    "alertmanager.alertmanagerSpec.nodeSelector": STRING_MAP,
    "alertmanager.alertmanagerSpec.tolerations": OBJECT_LIST,
    "alertmanager.alertmanagerSpec.securityContext": ANY_OBJECT,
    "alertmanager.alertmanagerSpec.secrets": STRING_LIST,
    "grafana.service.type": SERVICE_TYPE,
    "grafana.service.annotations": STRING_MAP,
    "grafana.service.labels": STRING_MAP,
    "grafana.resources": ANY_OBJECT,
    "grafana.nodeSelector": STRING_MAP,
    "grafana.tolerations": OBJECT_LIST,
    "grafana.env": STRING_MAP,
    "grafana.readinessProbe": ANY_OBJECT,
    "grafana.livenessProbe": ANY_OBJECT,
    "grafana.securityContext": ANY_OBJECT,
    "grafana.containerSecurityContext": ANY_OBJECT,
    "grafana.sidecar.resources": ANY_OBJECT,
    "prometheusOperator.service.type": SERVICE_TYPE,
    "prometheusOperator.admissionWebhooks.failurePolicy": {
        "type": "string", "enum": ["", "Fail", "Ignore", "IgnoreOnInstallOnly"]},
    "prometheusOperator.admissionWebhooks.patch.securityContext": ANY_OBJECT,
    "prometheusOperator.extraArgs": STRING_LIST,
    "prometheusOperator.resources": ANY_OBJECT,
    "prometheusOperator.env": STRING_MAP,
    "prometheusOperator.nodeSelector": STRING_MAP,
    "prometheusOperator.tolerations": OBJECT_LIST,
    "prometheusOperator.securityContext": ANY_OBJECT,
    "prometheusOperator.containerSecurityContext": ANY_OBJECT,
    "prometheusOperator.prometheusConfigReloader.resources": ANY_OBJECT,
    "prometheus.annotations": STRING_MAP,
    "prometheus.additionalLabels": STRING_MAP,
    "prometheus.serviceAccount.annotations": STRING_MAP,
    "prometheus.service.type": SERVICE_TYPE,
    "prometheus.service.annotations": STRING_MAP,
    "prometheus.service.labels": STRING_MAP,
    "prometheus.prometheusSpec.enableFeatures": STRING_LIST,
    "prometheus.prometheusSpec.tolerations": OBJECT_LIST,
    "prometheus.prometheusSpec.externalLabels": STRING_MAP,
    "prometheus.prometheusSpec.nodeSelector": STRING_MAP,
    "prometheus.prometheusSpec.podMetadata": ANY_OBJECT,
    "prometheus.prometheusSpec.podAntiAffinity": {"type": "string", "enum": ["", "soft", "hard"]},
    "prometheus.prometheusSpec.affinity": ANY_OBJECT,
    "prometheus.prometheusSpec.resources": ANY_OBJECT,
    "prometheus.prometheusSpec.securityContext": ANY_OBJECT,
    "prometheus.prometheusSpec.serviceDiscoveryRole": {
        "type": "string", "enum": ["", "Endpoints", "EndpointSlice"]},
    **{f"prometheus.prometheusSpec.{kind}{suffix}": ANY_OBJECT
       for kind in ("serviceMonitor", "podMonitor", "probe", "scrapeConfig", "rule")
       for suffix in ("Selector", "NamespaceSelector")},
}

# Keys the real chart reads although its values.yaml has no default for them (see VALUES.md), and
# crds.global, which helm copies into the values of the crds subchart.
WITHOUT_DEFAULT: dict[str, Schema] = {
    "crds.global": ANY_OBJECT,
    "grafana.adminPassword": {"type": "string"},
    "grafana.service.nodePort": {"type": "integer"},
    "grafana.sidecar.datasources.url": {"type": "string"},
    "grafana.sidecar.datasources.defaultDatasourceScrapeInterval": {"type": "string"},
}


def _scalar(value: Any, path: str) -> Schema:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, str):
        return {"type": "string"}
    raise ValueError(f"{path}: no type can be inferred from {value!r}; add it to FREE_FORM")


def infer(value: Any, path: str = "") -> Schema:
    """The schema of one values key, ``path`` being its dotted name."""
    if path in FREE_FORM:
        return FREE_FORM[path]
    if isinstance(value, dict):
        properties = {key: infer(child, f"{path}.{key}" if path else key)
                      for key, child in value.items()}
        prefix = f"{path}." if path else ""
        for extra, schema in WITHOUT_DEFAULT.items():
            head, _, name = extra.rpartition(".")
            if f"{head}." == prefix or (not head and not path):
                properties[name] = schema
        return {"type": "object", "additionalProperties": False,
                "properties": dict(sorted(properties.items()))}
    if isinstance(value, list):
        raise ValueError(f"{path}: lists need an item type; add it to FREE_FORM")
    return _scalar(value, path)


def values_schema() -> Schema:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "kube-prometheus-stack (mlmon stand-in) values",
        **infer(values),
    }


def render() -> str:
    return json.dumps(values_schema(), indent=2) + "\n"


def main() -> int:
    (CHART / "values.schema.json").write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
