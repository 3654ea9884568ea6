"""A container's environment, resolved as the kubelet resolves it (kubelet_pods.go
makeEnvironmentVariables): ``envFrom`` ConfigMaps/Secrets first, then ``env`` in order, with
``$(VAR)`` references expanded against what is defined so far and ``valueFrom`` read through the
API (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef). A missing Secret, ConfigMap or key
that is not ``optional`` is a :class:`ContainerConfigError` carrying the kubelet's message; the
kubelet reports it as CreateContainerConfigError.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation

from .meta import Obj

Fetch = Callable[[str, str, str], Awaitable[Obj | None]]
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
SUFFIXES = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}


class ContainerConfigError(Exception):
    """The container cannot be configured (CreateContainerConfigError)."""


def expand(text: str, defined: dict[str, str]) -> str:
    """expansion.Expand: ``$(NAME)`` becomes its value when defined, ``$$`` becomes ``$``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            out.append(defined.get(name, f"$({name})"))
            i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def parse_quantity(text: str) -> Decimal:
    match = re.fullmatch(r"([+-]?[0-9.]+)(e[+-]?\d+|[a-zA-Z]*)", str(text).strip())
    if not match:
        raise ValueError(f"quantities must match the regular expression: {text}")
    number, suffix = match.groups()
    try:
        if suffix.startswith("e"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * SUFFIXES[suffix]
    except (KeyError, InvalidOperation) as err:
        raise ValueError(f"unable to parse quantity's suffix: {text}") from err


class EnvResolver:
    def __init__(self, fetch: Fetch, allocatable: dict[str, str]) -> None:
        """``fetch(kind, namespace, name)`` returns a Secret/ConfigMap or None when absent."""
        self.fetch = fetch
        self.allocatable = allocatable

    async def resolve(self, pod: Obj, container: Obj) -> dict[str, str]:
        namespace = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            refs = (("configmap", source.get("configMapRef")), ("secret", source.get("secretRef")))
            for kind, ref in refs:
                if ref is None:
                    continue
                data = await self._data(kind, namespace, ref["name"], bool(ref.get("optional")))
                for key, value in (data or {}).items():
                    if ENV_NAME.match(prefix + key):
                        env[prefix + key] = value
        for var in container.get("env") or []:
            name = var["name"]
            if "valueFrom" in var:
                value = await self._value_from(pod, container, var["valueFrom"])
                if value is None:
                    continue
                env[name] = value
            else:
                env[name] = expand(var.get("value", ""), env)
        return env

    async def _data(
        self, kind: str, namespace: str, name: str, optional: bool
    ) -> dict[str, str] | None:
        obj = await self.fetch(kind, namespace, name)
        if obj is None:
            if optional:
                return None
            raise ContainerConfigError(f'{kind} "{name}" not found')
        if kind == "secret":
            return _decoded(obj.get("data"))
        return {**(obj.get("data") or {}), **_decoded(obj.get("binaryData"))}

    async def _value_from(self, pod: Obj, container: Obj, source: Obj) -> str | None:
        namespace = pod["metadata"]["namespace"]
        for kind, field, label in (
            ("configmap", "configMapKeyRef", "ConfigMap"), ("secret", "secretKeyRef", "Secret")
        ):
            ref = source.get(field)
            if ref is None:
                continue
            optional = bool(ref.get("optional"))
            data = await self._data(kind, namespace, ref["name"], optional)
            if data is None:
                return None
            if ref["key"] not in data:
                if optional:
                    return None
                raise ContainerConfigError(
                    f"couldn't find key {ref['key']} in {label} {namespace}/{ref['name']}"
                )
            return data[ref["key"]]
        if "fieldRef" in source:
            return field_value(pod, source["fieldRef"]["fieldPath"])
        if "resourceFieldRef" in source:
            return self._resource_value(container, source["resourceFieldRef"])
        raise ContainerConfigError("invalid valueFrom: no source set")

    def _resource_value(self, container: Obj, ref: Obj) -> str:
        section, _, resource = ref["resource"].partition(".")
        declared = (container.get("resources") or {}).get(section) or {}
        quantity = declared.get(resource)
        if quantity is None:
            quantity = self.allocatable.get(resource, "0")
        divisor = parse_quantity(ref.get("divisor") or "1")
        return str(math.ceil(parse_quantity(quantity) / divisor))


def _decoded(data: dict[str, str] | None) -> dict[str, str]:
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (data or {}).items()}


def field_value(pod: Obj, path: str) -> str:
    """The downward API's fieldRef values (fieldpath.ExtractFieldPathAsString)."""
    meta = pod["metadata"]
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    subscript = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if subscript:
        return (meta.get(subscript.group(1)) or {}).get(subscript.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        values = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": status.get("hostIP", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIPs": ",".join(ip["ip"] for ip in status.get("hostIPs") or []),
        "status.podIPs": ",".join(ip["ip"] for ip in status.get("podIPs") or []),
    }
    if path not in simple:
        raise ContainerConfigError(f"unsupported fieldPath: {path}")
    return str(simple[path])
