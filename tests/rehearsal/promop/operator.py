"""The operator loop: watch the inputs, reconcile each Prometheus, report its status."""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from ..kube.client import CONFIGMAPS, PODS, SECRETS, SERVICES, STATEFULSETS, ApiClient, Kind, KubeError
from ..kube.controllers.informer import Informer
from ..kube.controllers.workqueue import WorkQueue, drain
from . import config, rules, status, workload
from .kubeaccess import NAMESPACES, PODMONITORS, PROMETHEUSES, PROMETHEUSRULES, SERVICEMONITORS
from .scrape import Context, Unsupported, pod_monitor_jobs, service_monitor_jobs
from .selection import select
from .version import Version

Obj = dict[str, Any]
Key = tuple[str, str]
log = logging.getLogger(__name__)


@dataclass
class Inputs:
    """The informers the operator reads from."""

    prometheuses: Informer
    service_monitors: Informer
    pod_monitors: Informer
    rules: Informer
    namespaces: Informer
    stateful_sets: Informer
    pods: Informer

    def all(self) -> list[Informer]:
        return [self.prometheuses, self.service_monitors, self.pod_monitors, self.rules,
                self.namespaces, self.stateful_sets, self.pods]


@dataclass
class Operator:
    api: ApiClient
    version: Version
    reloader: workload.ReloaderSettings
    queue: WorkQueue[Key] = field(default_factory=WorkQueue)
    _checked_rules: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kinds = (PROMETHEUSES, SERVICEMONITORS, PODMONITORS, PROMETHEUSRULES, NAMESPACES,
                 STATEFULSETS, PODS)
        self.inputs = Inputs(*(Informer(self.api, kind) for kind in kinds))
        self.inputs.prometheuses.on_change(self._prometheus_changed)
        for informer in self.inputs.all()[1:]:
            informer.on_change(self._input_changed)

    def _prometheus_changed(self, _kind: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is not None:
            self.queue.add((obj["metadata"]["namespace"], obj["metadata"]["name"]))

    def _input_changed(self, _kind: str, _old: Obj | None, _new: Obj | None) -> None:
        for prometheus in self.inputs.prometheuses.items():
            self.queue.add((prometheus["metadata"]["namespace"], prometheus["metadata"]["name"]))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for informer in self.inputs.all():
                group.create_task(informer.run())
            group.create_task(drain(self.queue, self.sync, "prometheus-operator"))

    # --- reconciliation ---

    async def sync(self, key: Key) -> None:
        prometheus = self.inputs.prometheuses.get(*key)
        if prometheus is None or prometheus["metadata"].get("deletionTimestamp"):
            return
        error: str | None = None
        if not (prometheus.get("spec") or {}).get("paused"):
            try:
                await self._reconcile(prometheus)
            except (KubeError, rules.InvalidRule, ValueError) as err:
                error = str(err)
                log.warning("reconcile %s/%s: %s", *key, err)
        await self._report(prometheus, error)

    def _select(self, prometheus: Obj, informer: Informer, kind: str) -> list[Obj]:
        spec = prometheus.get("spec") or {}
        return select(informer.items(), prometheus["metadata"]["namespace"],
                      spec.get(f"{kind}Selector"), spec.get(f"{kind}NamespaceSelector"),
                      self.inputs.namespaces.items())

    async def _reconcile(self, prometheus: Obj) -> None:
        meta = prometheus["metadata"]
        ctx = Context(prometheus, self.version)
        rule_maps = await self._sync_rules(prometheus)
        service_monitors = [m for m in self._select(prometheus, self.inputs.service_monitors,
                                                    "serviceMonitor")
                            if self._accepted(ctx, m, service_monitor_jobs)]
        pod_monitors = [m for m in self._select(prometheus, self.inputs.pod_monitors,
                                                "podMonitor")
                        if self._accepted(ctx, m, pod_monitor_jobs)]
        generated = config.render(config.server_config(ctx, service_monitors, pod_monitors,
                                                       rule_maps))
        for warning in ctx.warnings:
            log.info("%s/%s: %s", meta["namespace"], meta["name"], warning)
        await self._apply_secret(workload.config_secret(prometheus, config.compress(generated)))
        prefixed = f"prometheus-{meta['name']}"
        await self._create_missing(SECRETS, workload.secret(
            f"{prefixed}-web-config", prometheus,
            {workload.WEB_CONFIG_KEY: workload.WEB_CONFIG.encode()}))
        await self._create_missing(SECRETS, workload.secret(f"{prefixed}-tls-assets-0",
                                                            prometheus, {}))
        await self._create_missing(SERVICES, workload.governing_service(prometheus))
        digest = workload.input_hash(prometheus.get("spec"), meta.get("labels"),
                                     meta.get("annotations"), rule_maps, self.reloader)
        await self._apply_stateful_set(workload.stateful_set(
            prometheus, self.version, self.reloader, rule_maps, digest))

    def _accepted(self, ctx: Context, monitor: Obj, jobs: Any) -> bool:
        try:
            jobs(ctx, monitor)
        except Unsupported as err:
            log.warning("rejecting %s/%s: %s", monitor["metadata"]["namespace"],
                        monitor["metadata"]["name"], err)
            return False
        return True

    def _rule_accepted(self, rule: Obj, content: str) -> bool:
        digest = hashlib.sha256(content.encode()).hexdigest()
        if digest not in self._checked_rules:
            try:
                rules.check(content)
                self._checked_rules[digest] = None
            except rules.InvalidRule as err:
                self._checked_rules[digest] = str(err)
        problem = self._checked_rules[digest]
        if problem is not None:
            log.warning("skipping prometheusrule %s/%s: %s", rule["metadata"]["namespace"],
                        rule["metadata"]["name"], problem)
        return problem is None

    async def _sync_rules(self, prometheus: Obj) -> list[str]:
        meta = prometheus["metadata"]
        files = {}
        for rule in self._select(prometheus, self.inputs.rules, "rule"):
            content = rules.rule_file(rule, self.version)
            if self._rule_accepted(rule, content):
                files[rules.file_name(rule)] = content
        buckets = rules.config_map_data(files)
        names = [f"prometheus-{meta['name']}-rulefiles-{i}" for i in range(len(buckets))]
        for name, data in zip(names, buckets, strict=True):
            await self._apply(CONFIGMAPS, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": meta["namespace"],
                             "labels": {**workload.MANAGED_BY, "prometheus-name": meta["name"]},
                             "ownerReferences": [workload.owner_reference(prometheus)]},
                "data": data,
            }, lambda live, want: live.get("data") != want["data"])
        existing, _ = await self.api.list(CONFIGMAPS, meta["namespace"],
                                          label_selector=f"prometheus-name={meta['name']}")
        for stale in existing:
            if stale["metadata"]["name"] not in names:
                await self.api.delete(CONFIGMAPS, meta["namespace"], stale["metadata"]["name"])
        return config.rule_config_map_names(meta["name"], len(names))

    async def _apply(self, kind: Kind, want: Obj, differs: Any) -> None:
        meta = want["metadata"]
        try:
            live = await self.api.get(kind, meta["namespace"], meta["name"])
        except KubeError as err:
            if not err.not_found:
                raise
            await self.api.create(kind, meta["namespace"], want)
            return
        if differs(live, want):
            merged = {**live, **{k: v for k, v in want.items() if k != "metadata"}}
            merged["metadata"] = {**live["metadata"],
                                  "labels": meta.get("labels"),
                                  "annotations": {**(live["metadata"].get("annotations") or {}),
                                                  **(meta.get("annotations") or {})},
                                  "ownerReferences": meta.get("ownerReferences")}
            await self.api.replace(kind, merged)

    async def _apply_secret(self, want: Obj) -> None:
        def differs(live: Obj, wanted: Obj) -> bool:
            def text(secret: Obj) -> bytes:
                raw = (secret.get("data") or {}).get(config.CONFIG_KEY, "")
                return gzip.decompress(base64.b64decode(raw)) if raw else b""
            return text(live) != text(wanted)
        await self._apply(SECRETS, want, differs)

    async def _create_missing(self, kind: Kind, want: Obj) -> None:
        await self._apply(kind, want, lambda _live, _want: False)

    async def _apply_stateful_set(self, want: Obj) -> None:
        def differs(live: Obj, wanted: Obj) -> bool:
            key = "prometheus-operator-input-hash"
            return (live["metadata"].get("annotations") or {}).get(key) != \
                wanted["metadata"]["annotations"][key]
        await self._apply(STATEFULSETS, want, differs)

    # --- status ---

    async def _report(self, prometheus: Obj, error: str | None) -> None:
        meta = prometheus["metadata"]
        selector = workload.selector_labels(meta["name"])
        selector.pop("operator.prometheus.io/shard")
        pods = [p for p in self.inputs.pods.items(meta["namespace"])
                if all((p["metadata"].get("labels") or {}).get(k) == v
                       for k, v in selector.items())]
        stateful_set = self.inputs.stateful_sets.get(meta["namespace"], f"prometheus-{meta['name']}")
        wanted = status.prometheus_status(
            prometheus, stateful_set, pods, error,
            ",".join(f"{k}={v}" for k, v in sorted(selector.items())))
        if _comparable(wanted) == _comparable(prometheus.get("status") or {}):
            return
        await self.api.patch(PROMETHEUSES, meta["namespace"], meta["name"],
                             {"status": wanted}, sub="status")


def _comparable(state: Obj) -> Obj:
    return {**state, "conditions": [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                                    for c in state.get("conditions") or []]}


def reloader_settings(operator_args: argparse.Namespace) -> workload.ReloaderSettings:
    """The config-reloader image and resources from the operator's own flags."""
    requests = {name: value for name, value in (("cpu", operator_args.reloader_cpu_request),
                                                ("memory", operator_args.reloader_memory_request))
                if value not in (None, "0")}
    limits = {name: value for name, value in (("cpu", operator_args.reloader_cpu_limit),
                                              ("memory", operator_args.reloader_memory_limit))
              if value not in (None, "0")}
    resources = {k: v for k, v in (("limits", limits), ("requests", requests)) if v}
    return workload.ReloaderSettings(operator_args.prometheus_config_reloader, resources)
