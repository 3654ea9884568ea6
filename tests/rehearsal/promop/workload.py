"""The objects prometheus-operator creates to run a Prometheus: the StatefulSet
``prometheus-<name>``, its governing Service ``prometheus-operated``, the configuration Secret
and the web-config and TLS-assets Secrets the pods mount."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .config import CONFIG_KEY, RULES_DIR
from .version import Version

Obj = dict[str, Any]

GOVERNING_SERVICE = "prometheus-operated"
MANAGED_BY = {"managed-by": "prometheus-operator",
              "app.kubernetes.io/managed-by": "prometheus-operator"}
DEFAULT_IMAGE = "quay.io/prometheus/prometheus"
DEFAULT_RETENTION = "24h"
WEB_CONFIG_KEY = "web-config.yaml"
WEB_CONFIG = "{}\n"


@dataclass(frozen=True)
class ReloaderSettings:
    """What the operator's own flags say about the config-reloader sidecar."""

    image: str
    resources: Obj


def owner_reference(prometheus: Obj) -> Obj:
    meta = prometheus["metadata"]
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}


def selector_labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": name,
        "operator.prometheus.io/name": name,
        "prometheus": name,
        "operator.prometheus.io/shard": "0",
    }


def secret(name: str, prometheus: Obj, data: dict[str, bytes]) -> Obj:
    meta = prometheus["metadata"]
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": meta["namespace"], "labels": dict(MANAGED_BY),
                     "ownerReferences": [owner_reference(prometheus)]},
        "type": "Opaque",
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }


def config_secret(prometheus: Obj, compressed: bytes) -> Obj:
    return secret(f"prometheus-{prometheus['metadata']['name']}", prometheus,
                  {CONFIG_KEY: compressed})


def governing_service(prometheus: Obj) -> Obj:
    meta, spec = prometheus["metadata"], prometheus.get("spec") or {}
    port = spec.get("portName") or "web"
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": GOVERNING_SERVICE, "namespace": meta["namespace"],
                     "labels": {**MANAGED_BY, "operated-prometheus": "true"},
                     "ownerReferences": [{**owner_reference(prometheus), "controller": False}]},
        "spec": {"clusterIP": "None",
                 "ports": [{"name": port, "port": 9090, "targetPort": port}],
                 "selector": {"app.kubernetes.io/name": "prometheus"}},
    }


def image(spec: Obj, version: str) -> str:
    return spec.get("image") or f"{DEFAULT_IMAGE}:v{version.lstrip('v')}"


def server_args(spec: Obj, version: Version) -> list[str]:
    """The prometheus container's flags for ``version``, in the operator's order."""
    args = ["--config.file=/etc/prometheus/config_out/prometheus.env.yaml"]
    if version.major == 2:
        args += ["--web.console.templates=/etc/prometheus/consoles",
                 "--web.console.libraries=/etc/prometheus/console_libraries"]
    if spec.get("reloadStrategy", "HTTP") == "HTTP":
        args.append("--web.enable-lifecycle")
    if spec.get("externalUrl"):
        args.append(f"--web.external-url={spec['externalUrl']}")
    args.append(f"--web.route-prefix={spec.get('routePrefix') or '/'}")
    if spec.get("logLevel") not in (None, "", "info"):
        args.append(f"--log.level={spec['logLevel']}")
    if spec.get("logFormat") not in (None, "", "logfmt"):
        args.append(f"--log.format={spec['logFormat']}")
    if spec.get("listenLocal"):
        args.append("--web.listen-address=127.0.0.1:9090")
    retention = spec.get("retention") or ("" if spec.get("retentionSize") else DEFAULT_RETENTION)
    if retention and not version.at_least("3.11.0"):
        args.append(f"--storage.tsdb.retention.time={retention}")
    if spec.get("retentionSize") and not version.at_least("3.11.0"):
        args.append(f"--storage.tsdb.retention.size={spec['retentionSize']}")
    args.append("--storage.tsdb.path=/prometheus")
    if spec.get("enableAdminAPI"):
        args.append("--web.enable-admin-api")
    if "walCompression" in spec:
        flag = "storage.tsdb.wal-compression" if spec["walCompression"] else \
            "no-storage.tsdb.wal-compression"
        args.append(f"--{flag}")
    args.append(f"--web.config.file=/etc/prometheus/web_config/{WEB_CONFIG_KEY}")
    return args


def _reloader(name: str, init: bool, settings: ReloaderSettings, rule_maps: list[str],
              mounts: list[Obj]) -> Obj:
    port, port_name = (8081, "reloader-init") if init else (8080, "reloader-web")
    args = ["--watch-interval=0"] if init else []
    args.append(f"--listen-address=:{port}")
    if not init:
        args.append("--reload-url=http://127.0.0.1:9090/-/reload")
    args += ["--config-file=/etc/prometheus/config/prometheus.yaml.gz",
             "--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml"]
    args += [f"--watched-dir={RULES_DIR}/{cm}" for cm in rule_maps]
    args.append("--watched-dir=/etc/prometheus/config")
    return {
        "name": name, "image": settings.image, "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/prometheus-config-reloader"], "args": args,
        "env": [{"name": "POD_NAME",
                 "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "SHARD", "value": "0"}],
        "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}],
        "resources": settings.resources,
        "securityContext": _restricted(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    }


def _restricted() -> Obj:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}


def _probe(path: str, port: str, period: int, failures: int) -> Obj:
    return {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}, "timeoutSeconds": 3,
            "periodSeconds": period, "failureThreshold": failures}


def stateful_set(prometheus: Obj, version: Version, settings: ReloaderSettings,
                 rule_maps: list[str], input_hash: str) -> Obj:
    meta, spec = prometheus["metadata"], prometheus.get("spec") or {}
    name = meta["name"]
    prefixed = f"prometheus-{name}"
    port = spec.get("portName") or "web"
    route = (spec.get("routePrefix") or "/").rstrip("/")
    selector = selector_labels(name)
    pod_labels = {**selector, "app.kubernetes.io/version": str(version),
                  **((spec.get("podMetadata") or {}).get("labels") or {})}
    rule_mounts = [{"name": cm, "mountPath": f"{RULES_DIR}/{cm}"} for cm in rule_maps]
    reloader_mounts = [{"name": "config", "mountPath": "/etc/prometheus/config"},
                       {"name": "config-out", "mountPath": "/etc/prometheus/config_out"},
                       *rule_mounts]
    server = {
        "name": "prometheus",
        "image": image(spec, spec.get("version") or str(version)),
        "imagePullPolicy": spec.get("imagePullPolicy") or "IfNotPresent",
        "args": server_args(spec, version),
        "ports": [] if spec.get("listenLocal") else [
            {"name": port, "containerPort": 9090, "protocol": "TCP"}],
        "resources": spec.get("resources") or {},
        "securityContext": _restricted(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "startupProbe": _probe(f"{route}/-/ready", port, 15, 60),
        "readinessProbe": _probe(f"{route}/-/ready", port, 5, 3),
        "livenessProbe": _probe(f"{route}/-/healthy", port, 5, 6),
        "volumeMounts": [
            {"name": "config-out", "mountPath": "/etc/prometheus/config_out", "readOnly": True},
            {"name": "tls-assets", "mountPath": "/etc/prometheus/certs", "readOnly": True},
            {"name": f"{prefixed}-db", "mountPath": "/prometheus"},
            *rule_mounts,
            {"name": "web-config", "mountPath": f"/etc/prometheus/web_config/{WEB_CONFIG_KEY}",
             "subPath": WEB_CONFIG_KEY, "readOnly": True},
        ],
    }
    volumes = [
        {"name": "config", "secret": {"secretName": prefixed}},
        {"name": "tls-assets", "projected": {"sources": [
            {"secret": {"name": f"{prefixed}-tls-assets-0"}}]}},
        {"name": "config-out", "emptyDir": {"medium": "Memory"}},
        *({"name": cm, "configMap": {"name": cm, "optional": True}} for cm in rule_maps),
        {"name": "web-config", "secret": {"secretName": f"{prefixed}-web-config"}},
        {"name": f"{prefixed}-db", "emptyDir": {}},
    ]
    pod_spec: Obj = {
        "initContainers": [_reloader("init-config-reloader", True, settings, rule_maps,
                                     reloader_mounts)],
        "containers": [server, _reloader("config-reloader", False, settings, rule_maps,
                                         reloader_mounts)],
        "serviceAccountName": spec.get("serviceAccountName") or "default",
        "automountServiceAccountToken": spec.get("automountServiceAccountToken", True),
        "terminationGracePeriodSeconds": 600,
        "shareProcessNamespace": False,
        "volumes": volumes,
    }
    for key in ("securityContext", "affinity", "tolerations", "nodeSelector", "hostNetwork"):
        if spec.get(key):
            pod_spec[key] = spec[key]
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {
            "name": prefixed, "namespace": meta["namespace"],
            "labels": {**MANAGED_BY, **(meta.get("labels") or {}),
                       "operator.prometheus.io/mode": "server", **selector},
            "annotations": {**(meta.get("annotations") or {}),
                            "prometheus-operator-input-hash": input_hash},
            "ownerReferences": [owner_reference(prometheus)],
        },
        "spec": {
            "serviceName": GOVERNING_SERVICE,
            "replicas": int(spec.get("replicas", 1)),
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "minReadySeconds": int(spec.get("minReadySeconds") or 0),
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": pod_labels,
                             "annotations": {"kubectl.kubernetes.io/default-container":
                                             "prometheus"}},
                "spec": pod_spec,
            },
        },
    }


def input_hash(*parts: Any) -> str:
    """A digest of what the StatefulSet was built from, as the operator annotates it."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]
