"""Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.

Only the legacy (unaggregated) forms are served. client-go and kubectl ask for aggregated
discovery first (``Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
...,application/json``) and fall back to these lists when the response's Content-Type is plain
``application/json``, as they do against any server without aggregated discovery.
"""

from __future__ import annotations

from typing import Any

from .resources import Registry, ResourceType

Obj = dict[str, Any]
SUB_VERBS = ["get", "patch", "update"]


def version_info(kubernetes_version: str) -> Obj:
    minor = kubernetes_version.split(".")[1]
    git = f"v{kubernetes_version}.1"
    return {
        "major": "1",
        "minor": minor,
        "emulationMajor": "1",
        "emulationMinor": minor,
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": git,
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _resource(rt: ResourceType) -> Obj:
    out: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        out["shortNames"] = list(rt.short_names)
    if rt.categories:
        out["categories"] = list(rt.categories)
    out["storageVersionHash"] = rt.storage_version_hash
    return out


def _subresources(rt: ResourceType) -> list[Obj]:
    out: list[Obj] = []
    for sub in sorted(rt.subresources):
        entry: Obj = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced}
        if sub == "scale":
            entry.update(group="autoscaling", version="v1", kind="Scale", verbs=SUB_VERBS)
        elif sub == "log":
            entry.update(kind="Pod", verbs=["get"])
        elif sub == "finalize":
            entry.update(kind="Namespace", verbs=["update"])
        else:
            entry.update(kind=rt.kind, verbs=SUB_VERBS)
        out.append(entry)
    if rt.group == "" and rt.kind == "Pod":
        out.append(
            {"name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding", "verbs": ["create"]}
        )
    return out


def resource_list(registry: Registry, group: str, version: str) -> Obj:
    resources: list[Obj] = []
    for rt in sorted(registry.in_group_version(group, version), key=lambda r: r.plural):
        resources.append(_resource(rt))
        resources.extend(_subresources(rt))
    resources.sort(key=lambda r: r["name"])
    out: Obj = {"kind": "APIResourceList"}
    if group:
        out["apiVersion"] = "v1"
    out["groupVersion"] = f"{group}/{version}" if group else version
    out["resources"] = resources
    return out


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(registry: Registry, group: str) -> Obj | None:
    for name, versions in registry.groups():
        if name == group and group:
            listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": group,
                "versions": listed,
                "preferredVersion": listed[0],
            }
    return None


def api_group_list(registry: Registry) -> Obj:
    groups = []
    for name, _ in registry.groups():
        if not name:
            continue
        group = api_group(registry, name)
        if group:
            groups.append({k: v for k, v in group.items() if k not in ("kind", "apiVersion")})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
