"""The kinds the rehearsal apiserver serves, described as discovery lists them.

A :class:`ResourceType` carries what discovery, the REST handlers and the strategies need to know
about one group/version/resource: names, scope, verbs, subresources, short names and categories
(as ``kubectl api-resources -o wide`` prints them for Kubernetes 1.33), whether the kind keeps
``metadata.generation``, the field selectors it supports and whether PUT may create.
Custom resources get a ResourceType built from their CRD (see crds.py); :class:`Registry` holds both.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
COMMON_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class ResourceType:
    """One served resource (a plural under a group/version)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: frozenset[str] = frozenset()
    definition: str = ""
    has_generation: bool = False
    field_selectors: tuple[str, ...] = COMMON_FIELDS
    create_on_update: bool = False
    crd_name: str = ""
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    scale_paths: dict[str, str] | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[dict[str, Any], ...] = field(default=(), compare=False, hash=False)
    singular_name: str = ""
    list_kind_name: str = ""

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.list_kind_name or f"{self.kind}List"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage(self) -> tuple[str, str]:
        """The key objects of this resource are stored under (shared by all versions)."""
        return (self.group, self.plural)

    @property
    def is_custom(self) -> bool:
        return bool(self.crd_name)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def storage_version_hash(self) -> str:
        """apiserver's storageversion hash: base64 of the first 8 bytes of sha256(gvk)."""
        gvk = f"{self.api_version}, Kind={self.kind}"
        return base64.b64encode(hashlib.sha256(gvk.encode()).digest()[:8]).decode()

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        return "/".join(parts)


def _core(kind: str, plural: str, definition: str, **kw: Any) -> ResourceType:
    return ResourceType("", "v1", kind, plural, definition=f"io.k8s.api.core.v1.{definition}", **kw)


def _api(group: str, short: str, kind: str, plural: str, **kw: Any) -> ResourceType:
    return ResourceType(group, "v1", kind, plural, definition=f"io.k8s.api.{short}.v1.{kind}", **kw)


POD_FIELDS = (
    *COMMON_FIELDS,
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
)
EVENT_FIELDS = (
    *COMMON_FIELDS,
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)
NEW_EVENT_FIELDS = (
    *COMMON_FIELDS,
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "type",
)

BUILTINS: tuple[ResourceType, ...] = (
    _core(
        "Namespace",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        verbs=NO_COLLECTION,
        subresources=frozenset({"status", "finalize"}),
        field_selectors=(*COMMON_FIELDS, "status.phase"),
    ),
    _core(
        "Node",
        "nodes",
        "Node",
        namespaced=False,
        short_names=("no",),
        subresources=frozenset({"status"}),
        field_selectors=(*COMMON_FIELDS, "spec.unschedulable"),
    ),
    _core(
        "Pod",
        "pods",
        "Pod",
        namespaced=True,
        short_names=("po",),
        categories=("all",),
        subresources=frozenset({"status", "log"}),
        has_generation=True,
        field_selectors=POD_FIELDS,
    ),
    _core(
        "Service",
        "services",
        "Service",
        namespaced=True,
        short_names=("svc",),
        categories=("all",),
        subresources=frozenset({"status"}),
        create_on_update=True,
        field_selectors=(*COMMON_FIELDS, "spec.clusterIP", "spec.type"),
    ),
    _core("Endpoints", "endpoints", "Endpoints", namespaced=True, short_names=("ep",), create_on_update=True),
    _core("ConfigMap", "configmaps", "ConfigMap", namespaced=True, short_names=("cm",)),
    _core("Secret", "secrets", "Secret", namespaced=True, field_selectors=(*COMMON_FIELDS, "type")),
    _core(
        "ServiceAccount",
        "serviceaccounts",
        "ServiceAccount",
        namespaced=True,
        short_names=("sa",),
        create_on_update=True,
    ),
    _core(
        "Event",
        "events",
        "Event",
        namespaced=True,
        short_names=("ev",),
        create_on_update=True,
        field_selectors=EVENT_FIELDS,
    ),
    _api(
        "apps",
        "apps",
        "Deployment",
        "deployments",
        namespaced=True,
        short_names=("deploy",),
        categories=("all",),
        subresources=frozenset({"status", "scale"}),
        has_generation=True,
    ),
    _api(
        "apps",
        "apps",
        "ReplicaSet",
        "replicasets",
        namespaced=True,
        short_names=("rs",),
        categories=("all",),
        subresources=frozenset({"status", "scale"}),
        has_generation=True,
        field_selectors=(*COMMON_FIELDS, "status.replicas"),
    ),
    _api(
        "apps",
        "apps",
        "StatefulSet",
        "statefulsets",
        namespaced=True,
        short_names=("sts",),
        categories=("all",),
        subresources=frozenset({"status", "scale"}),
        has_generation=True,
    ),
    _api(
        "apps",
        "apps",
        "DaemonSet",
        "daemonsets",
        namespaced=True,
        short_names=("ds",),
        categories=("all",),
        subresources=frozenset({"status"}),
        has_generation=True,
    ),
    _api("apps", "apps", "ControllerRevision", "controllerrevisions", namespaced=True),
    ResourceType(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        namespaced=True,
        definition="io.k8s.api.discovery.v1.EndpointSlice",
        has_generation=True,
    ),
    ResourceType(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        namespaced=True,
        short_names=("ev",),
        definition="io.k8s.api.events.v1.Event",
        create_on_update=True,
        field_selectors=NEW_EVENT_FIELDS,
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=frozenset({"status"}),
        has_generation=True,
        definition="io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    ),
    _api("rbac.authorization.k8s.io", "rbac", "Role", "roles", namespaced=True, create_on_update=True),
    _api("rbac.authorization.k8s.io", "rbac", "RoleBinding", "rolebindings", namespaced=True, create_on_update=True),
    _api("rbac.authorization.k8s.io", "rbac", "ClusterRole", "clusterroles", namespaced=False, create_on_update=True),
    _api(
        "rbac.authorization.k8s.io",
        "rbac",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
        create_on_update=True,
    ),
    _api(
        "policy",
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        namespaced=True,
        short_names=("pdb",),
        subresources=frozenset({"status"}),
        has_generation=True,
        create_on_update=True,
    ),
    _api(
        "admissionregistration.k8s.io",
        "admissionregistration",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        namespaced=False,
        categories=("api-extensions",),
        has_generation=True,
        create_on_update=True,
    ),
    _api(
        "admissionregistration.k8s.io",
        "admissionregistration",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        namespaced=False,
        categories=("api-extensions",),
        has_generation=True,
        create_on_update=True,
    ),
    _api("coordination.k8s.io", "coordination", "Lease", "leases", namespaced=True, create_on_update=True),
    _api(
        "networking.k8s.io",
        "networking",
        "Ingress",
        "ingresses",
        namespaced=True,
        short_names=("ing",),
        subresources=frozenset({"status"}),
        has_generation=True,
    ),
    _api("networking.k8s.io", "networking", "IngressClass", "ingressclasses", namespaced=False, has_generation=True),
    _api(
        "networking.k8s.io",
        "networking",
        "NetworkPolicy",
        "networkpolicies",
        namespaced=True,
        short_names=("netpol",),
        has_generation=True,
    ),
)

GROUP_ORDER = (
    "",
    "apps",
    "events.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "discovery.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "coordination.k8s.io",
)


class Registry:
    """Built-in kinds plus the custom resources whose CRDs are Established."""

    def __init__(self, builtins: Iterable[ResourceType] = BUILTINS) -> None:
        self._builtin = list(builtins)
        self._custom: dict[str, list[ResourceType]] = {}
        self.generation = 0

    def set_custom(self, crd_name: str, types: list[ResourceType]) -> None:
        if types:
            self._custom[crd_name] = types
        else:
            self._custom.pop(crd_name, None)
        self.generation += 1

    def all(self) -> list[ResourceType]:
        out = list(self._builtin)
        for types in self._custom.values():
            out.extend(types)
        return out

    def custom_for(self, crd_name: str) -> list[ResourceType]:
        return list(self._custom.get(crd_name, []))

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def by_storage(self, storage: tuple[str, str]) -> list[ResourceType]:
        return [rt for rt in self.all() if rt.storage == storage]

    def storages(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for rt in self.all():
            seen.setdefault(rt.storage, None)
        return list(seen)

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group, versions in preference order) in the order /apis lists them."""
        versions: dict[str, list[str]] = {}
        for rt in self.all():
            listed = versions.setdefault(rt.group, [])
            if rt.version not in listed:
                listed.append(rt.version)
        known = [g for g in GROUP_ORDER if g in versions]
        extra = sorted(g for g in versions if g not in GROUP_ORDER)
        return [(g, versions[g]) for g in known + extra]

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.all() if rt.group == group and rt.version == version]
