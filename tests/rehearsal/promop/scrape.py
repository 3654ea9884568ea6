"""Scrape jobs for ServiceMonitor and PodMonitor endpoints, as prometheus-operator writes them.

Fields that need a newer Prometheus than the one configured are left out with a warning, as the
operator does. Endpoints that take credentials or TLS material from Secrets/ConfigMaps (the
operator copies those into the tls-assets Secret) are not reproduced: such a monitor is rejected
with :class:`Unsupported`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import relabel
from .version import Version

Obj = dict[str, Any]
Job = dict[str, Any]

_SECRET_FIELDS = ("basicAuth", "authorization", "oauth2", "bearerTokenSecret",
                  "proxyConnectHeader")
_LIMITS = (("sampleLimit", "sample_limit", None), ("targetLimit", "target_limit", None),
           ("labelLimit", "label_limit", "2.27.0"),
           ("labelNameLengthLimit", "label_name_length_limit", "2.27.0"),
           ("labelValueLengthLimit", "label_value_length_limit", "2.27.0"),
           ("keepDroppedTargets", "keep_dropped_targets", "2.47.0"))


class Unsupported(ValueError):
    """A monitor uses a feature this stand-in does not reproduce."""


@dataclass
class Context:
    """What the jobs of one Prometheus depend on besides the monitor itself."""

    prometheus: Obj
    version: Version
    warnings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> Obj:
        return self.prometheus.get("spec") or {}

    @property
    def shards(self) -> int:
        return max(int(self.spec.get("shards") or 1), 1)

    def gated(self, job: Job, key: str, value: Any, minimum: str) -> None:
        if self.version.at_least(minimum):
            job[key] = value
        else:
            self.warnings.append(f"{key} needs Prometheus >= {minimum}; ignored for {self.version}")

    def endpoint_role(self, monitor_role: str | None) -> str:
        role = monitor_role or self.spec.get("serviceDiscoveryRole") or "Endpoints"
        if role == "EndpointSlice" and self.version.at_least("2.21.0"):
            return "endpointslice"
        return "endpoints"


def _namespaces(namespace_selector: Mapping[str, Any] | None, own: str,
                ignore: bool) -> list[str]:
    selector = namespace_selector or {}
    if ignore:
        return [own]
    if selector.get("any"):
        return []
    return list(selector.get("matchNames") or []) or [own]


def _sd_config(ctx: Context, role: str, namespaces: list[str],
               attach_metadata: Mapping[str, Any] | None, minimum: str) -> list[Obj]:
    sd: Obj = {"role": role}
    if namespaces:
        sd["namespaces"] = {"names": namespaces}
    if attach_metadata is not None:
        if ctx.version.at_least(minimum):
            sd["attach_metadata"] = {"node": bool(attach_metadata.get("node", False))}
        else:
            ctx.warnings.append(f"attach_metadata needs Prometheus >= {minimum}")
    return [sd]


def _check_supported(endpoint: Mapping[str, Any], where: str) -> None:
    used = [name for name in _SECRET_FIELDS if endpoint.get(name)]
    tls = endpoint.get("tlsConfig") or {}
    used += [f"tlsConfig.{name}" for name in ("ca", "cert", "keySecret") if tls.get(name)]
    if used:
        raise Unsupported(f"{where}: {', '.join(used)} (credentials from Secrets) not reproduced")


def _http_fields(ctx: Context, job: Job, endpoint: Mapping[str, Any]) -> None:
    for source, target in (("interval", "scrape_interval"), ("scrapeTimeout", "scrape_timeout"),
                           ("path", "metrics_path"), ("params", "params")):
        if endpoint.get(source):
            job[target] = endpoint[source]
    if endpoint.get("scheme"):
        job["scheme"] = endpoint["scheme"].lower()
    if "followRedirects" in endpoint:
        ctx.gated(job, "follow_redirects", endpoint["followRedirects"], "2.26.0")
    if "enableHttp2" in endpoint:
        ctx.gated(job, "enable_http2", endpoint["enableHttp2"], "2.35.0")
    if endpoint.get("proxyUrl"):
        job["proxy_url"] = endpoint["proxyUrl"]
    tls = endpoint.get("tlsConfig")
    if tls:
        job["tls_config"] = {target: tls[source] for source, target in (
            ("caFile", "ca_file"), ("certFile", "cert_file"), ("keyFile", "key_file"),
            ("insecureSkipVerify", "insecure_skip_verify"), ("serverName", "server_name"),
            ("minVersion", "min_version"), ("maxVersion", "max_version")) if source in tls}
    if endpoint.get("bearerTokenFile"):
        job["bearer_token_file"] = endpoint["bearerTokenFile"]


def _honor(ctx: Context, job: Job, endpoint: Mapping[str, Any]) -> None:
    job["honor_labels"] = bool(endpoint.get("honorLabels")) and not ctx.spec.get(
        "overrideHonorLabels")
    if "honorTimestamps" in endpoint or ctx.spec.get("overrideHonorTimestamps"):
        honor = bool(endpoint.get("honorTimestamps")) and not ctx.spec.get(
            "overrideHonorTimestamps")
        ctx.gated(job, "honor_timestamps", honor, "2.9.0")
    if "trackTimestampsStaleness" in endpoint:
        ctx.gated(job, "track_timestamps_staleness", endpoint["trackTimestampsStaleness"],
                  "2.48.0")


def _limits(ctx: Context, job: Job, spec: Mapping[str, Any]) -> None:
    for source, target, minimum in _LIMITS:
        if spec.get(source):
            if minimum is None:
                job[target] = spec[source]
            else:
                ctx.gated(job, target, spec[source], minimum)


def _target_port_rule(target_port: Any) -> list[Obj]:
    if isinstance(target_port, str) and target_port:
        return [{"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                 "regex": target_port}]
    if isinstance(target_port, int) and target_port:
        return [{"action": "keep",
                 "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                 "regex": target_port}]
    return []


def service_monitor_jobs(ctx: Context, monitor: Obj) -> list[Job]:
    """One job per endpoint, named ``serviceMonitor/<namespace>/<name>/<index>``."""
    meta, spec = monitor["metadata"], monitor["spec"]
    namespace, name = meta["namespace"], meta["name"]
    role = ctx.endpoint_role(spec.get("serviceDiscoveryRole"))
    slice_role = role == "endpointslice"
    prefix = "__meta_kubernetes_endpointslice_" if slice_role else "__meta_kubernetes_endpoint_"
    jobs = []
    for index, endpoint in enumerate(spec.get("endpoints") or []):
        _check_supported(endpoint, f"serviceMonitor/{namespace}/{name}/{index}")
        job: Job = {"job_name": f"serviceMonitor/{namespace}/{name}/{index}"}
        _honor(ctx, job, endpoint)
        job["kubernetes_sd_configs"] = _sd_config(
            ctx, role, _namespaces(spec.get("namespaceSelector"), namespace,
                                   bool(ctx.spec.get("ignoreNamespaceSelectors"))),
            spec.get("attachMetadata"), "2.37.0")
        _http_fields(ctx, job, endpoint)
        rules = [relabel.job_name_to_meta()]
        if spec.get("selectorMechanism", "RelabelConfig") == "RelabelConfig":
            rules += relabel.selector_rules(spec.get("selector") or {},
                                            "__meta_kubernetes_service_")
        port = endpoint.get("port") or ""
        if port:
            rules.append({"action": "keep", "source_labels": [f"{prefix}port_name"],
                          "regex": port})
        else:
            rules += _target_port_rule(endpoint.get("targetPort"))
        address = [f"{prefix}address_target_kind", f"{prefix}address_target_name"]
        rules += [
            {"source_labels": address, "separator": ";", "regex": "Node;(.*)",
             "replacement": "${1}", "target_label": "node"},
            {"source_labels": address, "separator": ";", "regex": "Pod;(.*)",
             "replacement": "${1}", "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"],
             "target_label": "container"},
        ]
        if endpoint.get("filterRunning", True):
            rules.append(relabel.running_filter())
        rules += [relabel.copy_label(f"__meta_kubernetes_service_label_{relabel.sanitize(label)}",
                                     relabel.sanitize(label))
                  for label in spec.get("targetLabels") or []]
        rules += [relabel.copy_label(f"__meta_kubernetes_pod_label_{relabel.sanitize(label)}",
                                     relabel.sanitize(label))
                  for label in [*(spec.get("podTargetLabels") or []),
                                *(ctx.spec.get("podTargetLabels") or [])]]
        rules.append({"source_labels": ["__meta_kubernetes_service_name"],
                      "target_label": "job", "replacement": "${1}"})
        if spec.get("jobLabel"):
            rules.append(relabel.copy_label(
                f"__meta_kubernetes_service_label_{relabel.sanitize(spec['jobLabel'])}", "job"))
        endpoint_label = port or str(endpoint.get("targetPort") or "")
        if endpoint_label:
            rules.append({"target_label": "endpoint", "replacement": endpoint_label})
        rules += relabel.user_rules(endpoint.get("relabelings"))
        rules += relabel.sharding(ctx.shards)
        job["relabel_configs"] = rules
        _limits(ctx, job, spec)
        if endpoint.get("metricRelabelings"):
            job["metric_relabel_configs"] = relabel.user_rules(endpoint["metricRelabelings"])
        jobs.append(job)
    return jobs


def pod_monitor_jobs(ctx: Context, monitor: Obj) -> list[Job]:
    """One job per podMetricsEndpoint, named ``podMonitor/<namespace>/<name>/<index>``."""
    meta, spec = monitor["metadata"], monitor["spec"]
    namespace, name = meta["namespace"], meta["name"]
    jobs = []
    for index, endpoint in enumerate(spec.get("podMetricsEndpoints") or []):
        _check_supported(endpoint, f"podMonitor/{namespace}/{name}/{index}")
        job: Job = {"job_name": f"podMonitor/{namespace}/{name}/{index}"}
        _honor(ctx, job, endpoint)
        job["kubernetes_sd_configs"] = _sd_config(
            ctx, "pod", _namespaces(spec.get("namespaceSelector"), namespace,
                                    bool(ctx.spec.get("ignoreNamespaceSelectors"))),
            spec.get("attachMetadata"), "2.35.0")
        _http_fields(ctx, job, endpoint)
        rules = [relabel.job_name_to_meta()]
        if endpoint.get("filterRunning", True):
            rules.append(relabel.running_filter())
        if spec.get("selectorMechanism", "RelabelConfig") == "RelabelConfig":
            rules += relabel.selector_rules(spec.get("selector") or {}, "__meta_kubernetes_pod_")
        port = endpoint.get("port") or ""
        if port:
            rules.append({"action": "keep",
                          "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                          "regex": port})
        elif endpoint.get("portNumber"):
            rules.append({"action": "keep",
                          "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                          "regex": endpoint["portNumber"]})
        else:
            rules += _target_port_rule(endpoint.get("targetPort"))
        rules += [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"],
             "target_label": "container"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ]
        rules += [relabel.copy_label(f"__meta_kubernetes_pod_label_{relabel.sanitize(label)}",
                                     relabel.sanitize(label))
                  for label in [*(spec.get("podTargetLabels") or []),
                                *(ctx.spec.get("podTargetLabels") or [])]]
        rules.append({"target_label": "job", "replacement": f"{namespace}/{name}"})
        if spec.get("jobLabel"):
            rules.append(relabel.copy_label(
                f"__meta_kubernetes_pod_label_{relabel.sanitize(spec['jobLabel'])}", "job"))
        if port:
            rules.append({"target_label": "endpoint", "replacement": port})
        rules += relabel.user_rules(endpoint.get("relabelings"))
        rules += relabel.sharding(ctx.shards)
        job["relabel_configs"] = rules
        _limits(ctx, job, spec)
        if endpoint.get("metricRelabelings"):
            job["metric_relabel_configs"] = relabel.user_rules(endpoint["metricRelabelings"])
        jobs.append(job)
    return jobs
