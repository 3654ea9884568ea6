"""The whole Prometheus configuration prometheus-operator generates for one Prometheus object."""

from __future__ import annotations

import gzip
from typing import Any

import yaml

from .scrape import Context, pod_monitor_jobs, service_monitor_jobs

Obj = dict[str, Any]

RULES_DIR = "/etc/prometheus/rules"
DEFAULT_SCRAPE_INTERVAL = "30s"
CONFIG_KEY = "prometheus.yaml.gz"


def rule_config_map_names(prometheus_name: str, existing: int = 0) -> list[str]:
    """The rule ConfigMaps the StatefulSet mounts: the ones in use, padded to three (the operator
    mounts "virtual" ones as optional so that more rules do not roll the StatefulSet)."""
    return [f"prometheus-{prometheus_name}-rulefiles-{i}" for i in range(max(existing, 3))]


def external_labels(prometheus: Obj) -> dict[str, str]:
    meta, spec = prometheus["metadata"], prometheus.get("spec") or {}
    labels: dict[str, str] = {}
    name = spec.get("prometheusExternalLabelName", "prometheus")
    if name:
        labels[name] = f"{meta['namespace']}/{meta['name']}"
    replica = spec.get("replicaExternalLabelName", "prometheus_replica")
    if replica:
        labels[replica] = "$(POD_NAME)"
    for key, value in (spec.get("externalLabels") or {}).items():
        labels.setdefault(key, value)
    return dict(sorted(labels.items()))


def _global(ctx: Context) -> Obj:
    spec = ctx.spec
    section: Obj = {"scrape_interval": spec.get("scrapeInterval") or DEFAULT_SCRAPE_INTERVAL}
    if spec.get("scrapeTimeout"):
        section["scrape_timeout"] = spec["scrapeTimeout"]
    section["external_labels"] = external_labels(ctx.prometheus)
    section["evaluation_interval"] = spec.get("evaluationInterval") or DEFAULT_SCRAPE_INTERVAL
    return section


def _storage(ctx: Context) -> Obj | None:
    spec = ctx.spec
    storage: Obj = {}
    max_exemplars = (spec.get("exemplars") or {}).get("maxSize")
    if max_exemplars is not None:
        ctx.gated(storage, "exemplars", {"max_exemplars": max_exemplars}, "2.29.0")
    window = (spec.get("tsdb") or {}).get("outOfOrderTimeWindow")
    if window:
        tsdb: Obj = {}
        ctx.gated(tsdb, "out_of_order_time_window", window, "2.39.0")
        if tsdb:
            storage["tsdb"] = tsdb
    return storage or None


def _alertmanagers(ctx: Context) -> list[Obj]:
    own_namespace = ctx.prometheus["metadata"]["namespace"]
    configs = []
    for endpoint in (ctx.spec.get("alerting") or {}).get("alertmanagers") or []:
        config: Obj = {}
        if endpoint.get("scheme"):
            config["scheme"] = endpoint["scheme"]
        if endpoint.get("pathPrefix"):
            config["path_prefix"] = endpoint["pathPrefix"]
        if endpoint.get("timeout"):
            config["timeout"] = endpoint["timeout"]
        config["kubernetes_sd_configs"] = [{
            "role": ctx.endpoint_role(None),
            "namespaces": {"names": [endpoint.get("namespace") or own_namespace]},
        }]
        api_version = str(endpoint.get("apiVersion") or "").lower()
        if api_version in ("v1", "v2"):
            config["api_version"] = api_version
        rules: list[Obj] = [{"action": "keep", "source_labels": ["__meta_kubernetes_service_name"],
                             "regex": endpoint["name"]}]
        port = endpoint["port"]
        if isinstance(port, str):
            rules.append({"action": "keep",
                          "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                          "regex": port})
        else:
            rules.append({"action": "keep",
                          "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                          "regex": str(port)})
        config["relabel_configs"] = rules
        configs.append(config)
    return configs


def server_config(ctx: Context, service_monitors: list[Obj], pod_monitors: list[Obj],
                  rule_config_maps: list[str]) -> Obj:
    """The configuration as a mapping in the operator's key order. Monitors must already be
    selected and sorted; ones that raise :class:`~.scrape.Unsupported` must be left out."""
    config: Obj = {"global": _global(ctx)}
    if ctx.spec.get("ruleSelector") is not None:
        config["rule_files"] = [f"{RULES_DIR}/{name}/*.yaml" for name in rule_config_maps]
    jobs = [job for monitor in service_monitors for job in service_monitor_jobs(ctx, monitor)]
    jobs += [job for monitor in pod_monitors for job in pod_monitor_jobs(ctx, monitor)]
    config["scrape_configs"] = jobs
    storage = _storage(ctx)
    if storage is not None:
        config["storage"] = storage
    if ctx.spec.get("alerting") is not None:
        replica = ctx.spec.get("replicaExternalLabelName", "prometheus_replica")
        config["alerting"] = {
            "alert_relabel_configs": [{"action": "labeldrop", "regex": replica}] if replica else [],
            "alertmanagers": _alertmanagers(ctx),
        }
    return config


class _Dumper(yaml.SafeDumper):
    """Writes shared lists in full, as Go's yaml does, instead of YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(config: Obj) -> str:
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     width=1 << 16)


def compress(text: str) -> bytes:
    """gzip as the operator stores the configuration (mtime 0: same input, same bytes)."""
    return gzip.compress(text.encode(), mtime=0)
