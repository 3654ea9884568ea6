"""A small asynchronous REST client for the rehearsal apiserver, used by the controllers.

Controllers talk to their cluster exactly as any other client does: over HTTP with the cluster's
bearer token, through the status subresource, with optimistic concurrency (a stale
resourceVersion is a 409 :class:`KubeError`) and with watches (line-delimited JSON events, a 410
``Expired`` ERROR event when the requested resourceVersion is too old).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

Obj = dict[str, Any]

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@dataclass(frozen=True)
class Kind:
    """A resource as the REST paths name it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        parts = [f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name:
            parts.append(quote(name, safe=""))
        if sub:
            parts.append(sub)
        return "/".join(parts)


PODS = Kind("", "v1", "pods", "Pod")
SERVICES = Kind("", "v1", "services", "Service")
ENDPOINTS = Kind("", "v1", "endpoints", "Endpoints")
SECRETS = Kind("", "v1", "secrets", "Secret")
CONFIGMAPS = Kind("", "v1", "configmaps", "ConfigMap")
EVENTS = Kind("", "v1", "events", "Event")
NODES = Kind("", "v1", "nodes", "Node", namespaced=False)
DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment")
REPLICASETS = Kind("apps", "v1", "replicasets", "ReplicaSet")
STATEFULSETS = Kind("apps", "v1", "statefulsets", "StatefulSet")
ENDPOINTSLICES = Kind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")


class KubeError(Exception):
    """A non-2xx answer; ``status`` is the metav1.Status body when the server sent one."""

    def __init__(self, code: int, status: Mapping[str, Any]) -> None:
        self.code = code
        self.status = dict(status)
        self.reason = str(status.get("reason", ""))
        super().__init__(f"{code} {self.reason}: {status.get('message', '')}")

    @property
    def not_found(self) -> bool:
        return self.code == 404

    @property
    def conflict(self) -> bool:
        return self.code == 409 and self.reason == "Conflict"

    @property
    def already_exists(self) -> bool:
        return self.code == 409 and self.reason == "AlreadyExists"

    @property
    def expired(self) -> bool:
        return self.code == 410


class ApiClient:
    """REST client bound to one cluster's apiserver URL and bearer token."""

    def __init__(
        self, url: str, token: str, user_agent: str = "rehearsal-controller-manager"
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": user_agent}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Obj:
        data = None if body is None else json.dumps(body)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        async with self._http().request(
            method, self.url + path, params=params, data=data, headers=headers,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            text = await resp.text()
            payload = json.loads(text) if text else {}
            if resp.status >= 400:
                raise KubeError(resp.status, payload if isinstance(payload, dict) else {})
            return payload

    async def get(self, kind: Kind, namespace: str | None, name: str) -> Obj:
        return await self.request("GET", kind.path(namespace, name))

    async def list(
        self,
        kind: Kind,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> tuple[list[Obj], str]:
        """All items (following ``continue``) and the list's resourceVersion."""
        items: list[Obj] = []
        params = _selectors(label_selector, field_selector)
        while True:
            page = await self.request("GET", kind.path(namespace), params=params)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items, str((page.get("metadata") or {}).get("resourceVersion", ""))
            params = {**params, "continue": token}

    async def create(self, kind: Kind, namespace: str | None, obj: Obj) -> Obj:
        return await self.request("POST", kind.path(namespace), body=obj)

    async def replace(self, kind: Kind, obj: Obj, sub: str = "") -> Obj:
        meta = obj["metadata"]
        path = kind.path(meta.get("namespace"), meta["name"], sub)
        return await self.request("PUT", path, body=obj)

    async def patch(
        self, kind: Kind, namespace: str | None, name: str, patch: Any, *,
        patch_type: str = "merge", sub: str = "",
    ) -> Obj:
        return await self.request(
            "PATCH", kind.path(namespace, name, sub), body=patch,
            content_type=PATCH_TYPES[patch_type],
        )

    async def delete(
        self, kind: Kind, namespace: str | None, name: str, *,
        grace_period: int | None = None, uid: str = "", propagation: str = "",
    ) -> Obj:
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if uid:
            options["preconditions"] = {"uid": uid}
        if propagation:
            options["propagationPolicy"] = propagation
        return await self.request("DELETE", kind.path(namespace, name), body=options)

    async def watch(
        self,
        kind: Kind,
        namespace: str | None,
        resource_version: str,
        *,
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int = 300,
    ) -> AsyncIterator[Obj]:
        """Watch events ``{"type", "object"}`` after ``resource_version`` until the server ends
        the stream; an ERROR event is raised as a :class:`KubeError`."""
        params = {
            **_selectors(label_selector, field_selector),
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        async with self._http().get(
            self.url + kind.path(namespace), params=params, headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout_seconds + 30),
        ) as resp:
            if resp.status >= 400:
                text = await resp.text()
                raise KubeError(resp.status, json.loads(text) if text else {})
            buffer = b""
            async for chunk in resp.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield _watch_event(line)
            if buffer.strip():
                yield _watch_event(buffer)


def _watch_event(line: bytes) -> Obj:
    event = json.loads(line)
    if event.get("type") == "ERROR":
        status = event.get("object") or {}
        raise KubeError(int(status.get("code") or 500), status)
    return event


def _selectors(label_selector: str, field_selector: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params
