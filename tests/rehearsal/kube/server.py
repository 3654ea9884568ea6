"""The HTTP face of one cluster's apiserver (aiohttp): routing, auth, negotiation, request log.

Every request but /version and the health probes needs ``Authorization: Bearer <token>``
(401 otherwise). Resource paths are ``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<sub>]]`` and
``/apis/<group>/<version>/...`` (plus the legacy ``/watch/`` prefix); the verb comes from the
method and whether a name is given, and a verb the resource does not list is 405. Responses are
JSON (YAML on request, Table and PartialObjectMetadata for ``as=`` requests); failures are
metav1.Status bodies with the same code. ``pods/<name>/log`` is text from the node's kubelet
(``kubelet``, set by the Cluster; logs.py), streamed with ``follow``. Each request appends one
JSON line to the request log: ``{ts, method, path, query, status, user_agent, verb}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from . import codec, discovery, errors, tables, watch
from .controllers.podlogs import LogUnavailable, follow_log, read_log
from .errors import ApiError
from .logs import LogSource, log_options
from .openapi import OpenApi
from .resources import ResourceType
from .rest import Api, ListOptions, WriteOptions, set_pod_condition
from .selectors import field_matcher, label_matcher, parse_field_selector

Obj = dict[str, Any]
log = logging.getLogger(__name__)
NOT_FOUND = "the server could not find the requested resource"


@dataclass
class Target:
    rt: ResourceType
    namespace: str | None
    name: str
    subresource: str
    watch_prefix: bool


def _status_response(exc: ApiError, accept: codec.Accept | None = None) -> web.Response:
    body, ctype = codec.encode(exc.status(), accept or codec.Accept(codec.JSON))
    return web.Response(status=exc.code, body=body, content_type=ctype, headers=exc.headers)


def _verb(method: str, target: Target | None, query: Any) -> str:
    if target is None:
        return ""
    if method == "GET":
        if target.name:
            return "get"
        return "watch" if target.watch_prefix or query.get("watch") in ("1", "true") else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if target.name else "deletecollection",
    }.get(method, "")


def _flag(query: Any, key: str) -> bool:
    return query.get(key, "").lower() in ("1", "true")


class ApiServer:
    def __init__(
        self,
        api: Api,
        openapi: OpenApi,
        token: str,
        request_log: Path | None,
        kubernetes_version: str,
        bookmark_interval: float = 60.0,
    ) -> None:
        self.api = api
        self.openapi = openapi
        self.token = token
        self.request_log = request_log
        self.kubernetes_version = kubernetes_version
        self.bookmark_interval = bookmark_interval
        self.address = ""
        self.kubelet: LogSource | None = None
        self.stopping = asyncio.Event()
        self._log_file = request_log.open("a", buffering=1) if request_log else None

    def close(self) -> None:
        self.stopping.set()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    # --- middleware -----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.time()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except ApiError as exc:
            status = exc.code
            return _status_response(exc)
        except web.HTTPException as exc:
            status = exc.status
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.path)
            return _status_response(errors.internal(f"{type(exc).__name__}: {exc}"))
        finally:
            self._log(request, status, started)

    def _log(self, request: web.Request, status: int, started: float) -> None:
        if not self._log_file:
            return
        target = request.get("target")
        line = {
            "ts": started,
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "status": status,
            "user_agent": request.headers.get("User-Agent", ""),
            "verb": _verb(request.method, target, request.query),
        }
        self._log_file.write(json.dumps(line) + "\n")

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/version":
            return self._json(discovery.version_info(self.kubernetes_version))
        if path.split("/")[1] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain")
        self._authenticate(request)
        if path.startswith("/openapi/"):
            return self._openapi(request, path)
        registry = self.api.registry
        if path == "/api":
            return self._json(discovery.api_versions(self.address))
        if path == "/api/v1":
            return self._json(discovery.resource_list(registry, "", "v1"))
        if path == "/apis":
            return self._json(discovery.api_group_list(registry))
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2:
            group = discovery.api_group(registry, parts[1])
            if group is None:
                raise ApiError(404, "NotFound", NOT_FOUND, {})
            return self._json(group)
        if parts[0] == "apis" and len(parts) == 3:
            if not registry.in_group_version(parts[1], parts[2]):
                raise ApiError(404, "NotFound", NOT_FOUND, {})
            return self._json(discovery.resource_list(registry, parts[1], parts[2]))
        target = self._target(parts)
        if target is None:
            if parts[0] in ("api", "apis"):
                raise ApiError(404, "NotFound", NOT_FOUND, {})
            return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
        request["target"] = target
        return await self._resource(request, target)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {self.token}":
            raise errors.unauthorized()

    def _json(self, obj: Obj, status: int = 200) -> web.Response:
        return web.Response(
            status=status, body=json.dumps(obj, separators=(",", ":")).encode(), content_type="application/json"
        )

    def _openapi(self, request: web.Request, path: str) -> web.StreamResponse:
        accept = request.headers.get("Accept", "")
        if path == "/openapi/v2":
            if "protobuf" in accept and "application/json" not in accept.split("protobuf")[0]:
                body, etag = self.openapi.v2_protobuf()
                ctype = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
            else:
                body, etag = self.openapi.v2_json()
                ctype = "application/json"
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(body=body, headers={"Content-Type": ctype, "ETag": etag, "Vary": "Accept"})
        if path == "/openapi/v3":
            return self._json(self.openapi.v3_root())
        if path.startswith("/openapi/v3/"):
            gv_path = path[len("/openapi/v3/") :]
            found = self.openapi.v3_document(gv_path)
            if found is None:
                return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
            body, digest = found
            wanted = request.query.get("hash")
            if wanted and wanted != digest:
                raise web.HTTPMovedPermanently(f"/openapi/v3/{gv_path}?hash={digest}")
            headers = {"Content-Type": "application/json", "Etag": f'"{digest}"'}
            if wanted:
                headers["Cache-Control"] = "public, immutable"
            return web.Response(body=body, headers=headers)
        return web.Response(status=404, text="404 page not found\n", content_type="text/plain")

    def _target(self, parts: list[str]) -> Target | None:
        if parts[0] == "api" and len(parts) >= 3 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        watch_prefix = bool(rest) and rest[0] == "watch"
        if watch_prefix:
            rest = rest[1:]
        registry = self.api.registry
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            return None
        rt = registry.lookup(group, version, rest[0])
        if rt is None:
            return None
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if namespace is not None and not rt.namespaced:
            return None
        if sub and sub not in rt.subresources and not (rt.kind == "Pod" and sub == "binding"):
            return None
        return Target(rt, namespace, name, sub, watch_prefix)

    # --- resources ------------------------------------------------------------------------

    def _write_options(self, request: web.Request) -> WriteOptions:
        query = request.query
        dry = query.getall("dryRun", [])
        for value in dry:
            if value != "All":
                raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        manager = query.get("fieldManager", "")
        if len(manager) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be more than 128 bytes")
        force = query.get("force")
        return WriteOptions(
            dry_run=bool(dry),
            field_manager=manager,
            field_validation=query.get("fieldValidation", "Warn") or "Warn",
            force=None if force is None else force.lower() in ("1", "true"),
            user_agent=request.headers.get("User-Agent", ""),
        )

    async def _body(self, request: web.Request) -> codec.Decoded:
        raw = await request.read()
        return codec.decode(raw, request.headers.get("Content-Type"))

    def _respond(
        self,
        obj: Obj,
        status: int,
        accept: codec.Accept,
        warnings: list[str] | None = None,
        rt: ResourceType | None = None,
        include: str = "",
    ) -> web.Response:
        if accept.as_kind == "Table" and rt is not None:
            items = obj.get("items") if obj.get("kind", "").endswith("List") and "items" in obj else [obj]
            obj = tables.table(
                rt,
                items,
                obj["metadata"].get("resourceVersion", ""),
                include,
                obj["metadata"] if "items" in obj else None,
            )
        elif accept.as_kind.startswith("PartialObjectMetadata"):
            if "items" in obj and obj.get("kind", "").endswith("List"):
                obj = {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                    "items": [tables.partial_metadata(i) for i in obj["items"]],
                }
            elif "metadata" in obj and obj.get("kind") != "Status":
                obj = tables.partial_metadata(obj)
        body, ctype = codec.encode(obj, accept)
        response = web.Response(status=status, body=body, content_type=ctype)
        for warning in warnings or []:
            response.headers.add("Warning", '299 - "' + warning.replace("\\", "\\\\").replace('"', '\\"') + '"')
        return response

    async def _resource(self, request: web.Request, target: Target) -> web.StreamResponse:
        accept = codec.negotiate(request.headers.get("Accept"))
        verb = _verb(request.method, target, request.query)
        rt = target.rt
        if verb == "" or (verb not in rt.verbs and not target.subresource):
            raise errors.method_not_allowed()
        if rt.namespaced and target.namespace is None and verb not in ("list", "watch"):
            raise ApiError(404, "NotFound", NOT_FOUND, {})
        namespace = target.namespace or ""
        query = request.query
        include = query.get("includeObject", "")
        if verb == "get" and target.subresource == "log":
            return await self._pod_log(request, target)
        if verb == "get":
            return self._get(target, accept, include)
        if verb in ("list", "watch"):
            if verb == "watch":
                return await self._watch(request, target)
            listed = self.api.list(rt, target.namespace, self._list_options(request))
            return self._respond(listed, 200, accept, rt=rt, include=include)
        if verb in ("delete", "deletecollection"):
            options = await self._delete_options(request)
            dry = bool(query.getall("dryRun", [])) or "All" in (options.get("dryRun") or [])
            if verb == "delete":
                result = self.api.delete(rt, namespace, target.name, options, dry)
            else:
                result = self.api.delete_collection(rt, target.namespace, self._list_options(request), options, dry)
            code = result.code
            if options.get("orphanDependents") is False and result.obj.get("kind") != "Status":
                code = 202
            return self._respond(result.obj, code, accept)
        opts = self._write_options(request)
        decoded = await self._body(request)
        if verb == "create":
            if target.name or target.subresource:
                if target.subresource == "binding":
                    result = self._bind(target, decoded.obj, opts)
                    return self._respond(result, 201, accept)
                raise errors.method_not_allowed()
            result = self.api.create(rt, namespace, decoded.obj, opts, decoded.yaml_duplicates)
        elif verb == "update":
            if target.subresource == "scale":
                result = self.api.update_scale(rt, namespace, target.name, decoded.obj, opts)
            else:
                result = self.api.update(
                    rt, namespace, target.name, decoded.obj, opts, target.subresource, decoded.yaml_duplicates
                )
        else:
            ctype = codec.media_type(request.headers.get("Content-Type"))
            result = self.api.patch(
                rt, namespace, target.name, decoded.obj, ctype, opts, target.subresource, decoded.yaml_duplicates
            )
        return self._respond(
            result.obj, result.code, accept, result.warnings, rt=rt if not target.subresource else None
        )

    def _get(self, target: Target, accept: codec.Accept, include: str) -> web.Response:
        rt = target.rt
        obj = self.api.get(rt, target.namespace or "", target.name)
        if target.subresource == "scale":
            return self._respond(self.api.scale_of(rt, obj), 200, accept)
        if target.subresource not in ("", "status"):
            raise errors.method_not_allowed()
        return self._respond(
            self.api.present(rt, obj), 200, accept, rt=rt if not target.subresource else None, include=include
        )

    async def _pod_log(self, request: web.Request, target: Target) -> web.StreamResponse:
        pod = self.api.get(target.rt, target.namespace or "", target.name)
        options = log_options(request.query, pod, time.time())
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            return web.Response(body=b"", content_type="text/plain")
        if self.kubelet is None or node != self.kubelet.node_name:
            raise errors.not_found("nodes", "", node)
        try:
            path = self.kubelet.log_file(pod, options.container, options.previous)
        except LogUnavailable as exc:
            raise errors.bad_request(str(exc)) from None
        if not options.follow:
            return web.Response(body=read_log(path, options), content_type="text/plain")
        kubelet = self.kubelet
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        async for chunk in follow_log(path, options, lambda: kubelet.log_running(path), self.stopping):
            await response.write(chunk)
        await response.write_eof()
        return response

    def _bind(self, target: Target, body: Any, opts: WriteOptions) -> Obj:
        """``pods/<name>/binding`` as the pod registry's BindingREST: set ``spec.nodeName`` when it is
        still empty, merge the binding's annotations and set ``PodScheduled=True``, without the
        field manager (the scheduler's write is not an update of the pod's own fields)."""
        rt = target.rt
        pod = self.api.get(rt, target.namespace or "", target.name)
        binding = body if isinstance(body, dict) else {}
        node = (binding.get("target") or {}).get("name")
        if not node:
            raise errors.invalid_object("Binding", "", target.name, [errors.required("target.name")])
        current = (pod.get("spec") or {}).get("nodeName")
        if pod["metadata"].get("deletionTimestamp"):
            raise errors.conflict(
                "pods/binding", "", target.name, f"pod {target.name} is being deleted, cannot be assigned to a host"
            )
        if current:
            raise errors.conflict(
                "pods/binding", "", target.name, f'pod {target.name} is already assigned to node "{current}"'
            )
        updated = self.api.editable(rt, pod)
        updated["spec"]["nodeName"] = node
        annotations = (binding.get("metadata") or {}).get("annotations") or {}
        if annotations:
            updated["metadata"]["annotations"] = {**(updated["metadata"].get("annotations") or {}), **annotations}
        set_pod_condition(updated, "PodScheduled", "True")
        if not opts.dry_run:
            self.api.store.put(rt.storage, updated)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def _list_options(self, request: web.Request) -> ListOptions:
        query = request.query
        try:
            limit = int(query.get("limit", "0") or 0)
        except ValueError as exc:
            raise errors.bad_request(f"limit: Invalid value: {query.get('limit')!r}") from exc
        return ListOptions(
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            limit=max(limit, 0),
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
            resource_version_match=query.get("resourceVersionMatch", ""),
        )

    async def _delete_options(self, request: web.Request) -> Obj:
        raw = await request.read()
        options: Obj = {}
        if raw.strip():
            decoded = codec.decode(raw, request.headers.get("Content-Type") or "application/json").obj
            if not isinstance(decoded, dict):
                raise errors.bad_request("the body of the request was in an unknown format")
            options = dict(decoded)
        query = request.query
        if "gracePeriodSeconds" in query:
            options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query:
            options["orphanDependents"] = query["orphanDependents"].lower() == "true"
        return options

    async def _watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        query = request.query
        rt = target.rt
        labels = label_matcher(query.get("labelSelector", ""))
        fields = field_matcher(parse_field_selector(query.get("fieldSelector", ""), self.api._field_labels(rt)))
        if target.name:
            name = target.name

            def matches(obj: Obj) -> bool:
                return obj["metadata"]["name"] == name and labels(obj["metadata"].get("labels") or {}) and fields(obj)
        else:

            def matches(obj: Obj) -> bool:
                return labels(obj["metadata"].get("labels") or {}) and fields(obj)

        timeout = float(query.get("timeoutSeconds", "0") or 0) or 1800.0
        send_initial = query.get("sendInitialEvents")
        opts = watch.WatchOptions(
            resource_version=query.get("resourceVersion", ""),
            resource_version_match=query.get("resourceVersionMatch", ""),
            bookmarks=_flag(query, "allowWatchBookmarks"),
            send_initial_events=None if send_initial is None else send_initial.lower() == "true",
            timeout=timeout,
            bookmark_interval=self.bookmark_interval,
        )
        namespace = target.namespace if rt.namespaced else None
        return await watch.serve(
            request, self.api.store, rt, namespace, matches, lambda o: self.api.present(rt, o), opts, self.stopping
        )
