"""OpenAPI documents: /openapi/v2 (JSON and protobuf) and /openapi/v3 (root + one per group-version).

Built from kubernetes-validate's bundled 1.33 definitions (turned back from JSON Schema into
OpenAPI: single ``type``, ``#/definitions/`` or ``#/components/schemas/`` references,
``int-or-string``) plus the schemas of established CRD versions, named by reversed group
(``com.example.v1.Widget``) as the apiserver names them. Paths carry
``x-kubernetes-group-version-kind``/``x-kubernetes-action`` and the query parameters of each
verb; the PATCH operations list ``fieldValidation``, which is what client-go's
QueryParamVerifierV3 looks for before it lets kubectl and helm rely on server-side validation.
Documents are rebuilt only when the set of served kinds changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import definitions as defs
from .openapi_pb import encode_document
from .resources import Registry, ResourceType

Obj = dict[str, Any]
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
META_DEFS = (
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.api.autoscaling.v1.Scale",
)
PARAM_DOCS = {
    "pretty": (
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent "
        "indicates a browser or command-line HTTP tool (curl and wget)."
    ),
    "dryRun": (
        "When present, indicates that modifications should not be persisted. An invalid or "
        "unrecognized dryRun directive will result in an error response and no further "
        "processing of the request. Valid values are: - All: all dry run stages will be processed"
    ),
    "fieldManager": (
        "fieldManager is a name associated with the actor or entity that is making these "
        "changes. The value must be less than or 128 characters long, and only contain printable "
        "characters, as defined by https://golang.org/pkg/unicode/#IsPrint."
    ),
    "fieldValidation": (
        "fieldValidation instructs the server on how to handle objects in the request "
        "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: "
        "This will ignore any unknown fields that are silently dropped from the object, and will "
        "ignore all but the last duplicate field that the decoder encounters. This is the "
        "default behavior prior to v1.23. - Warn: This will send a warning via the standard "
        "warning response header for each unknown field that is dropped from the object, and for "
        "each duplicate field that is encountered. The request will still succeed if there are "
        "no other errors, and will only persist the last of any duplicate fields. This is the "
        "default in v1.23+ - Strict: This will fail the request with a BadRequest error if any "
        "unknown fields would be dropped from the object, or if any duplicate fields are "
        "present. The error returned from the server will contain all unknown and duplicate "
        "fields encountered."
    ),
    "force": (
        'Force is going to "force" Apply requests. It means user will re-acquire conflicting '
        "fields owned by other people. Force flag must be unset for non-apply patch requests."
    ),
}
LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
BOOL_PARAMS = ("allowWatchBookmarks", "force", "orphanDependents", "sendInitialEvents", "watch")
INT_PARAMS = ("gracePeriodSeconds", "limit", "timeoutSeconds")
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
DELETE_PARAMS = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")


V3_PREFIX = "#/components/schemas/"


def reversed_group(group: str) -> str:
    return ".".join(reversed(group.split("."))) if group else ""


def definition_name(rt: ResourceType) -> str:
    if not rt.is_custom:
        return rt.definition
    return f"{reversed_group(rt.group)}.{rt.version}.{rt.kind}"


def _convert(node: Any, prefix: str, top: bool = False) -> Any:
    """JSON-Schema-flavoured definitions back to OpenAPI."""
    if isinstance(node, list):
        return [_convert(v, prefix) for v in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(defs.REF_PREFIX):
            out[key] = prefix + value[len(defs.REF_PREFIX) :]
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if kinds:
                out[key] = kinds[0]
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: _property(k, v, prefix, top) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, prefix)
        elif key == "oneOf":
            continue
        else:
            out[key] = _convert(value, prefix) if isinstance(value, dict | list) else value
    return out


def _property(name: str, schema: Obj, prefix: str, top: bool) -> Obj:
    converted = _convert(schema, prefix)
    if top and name in ("apiVersion", "kind"):
        converted.pop("enum", None)
    if prefix == V3_PREFIX and "$ref" in converted and len(converted) > 1:
        ref = converted.pop("$ref")
        converted = {"allOf": [{"$ref": ref}], **converted}
    return converted


def builtin_definition(name: str, prefix: str) -> Obj:
    schema = defs.definitions()[name]
    if prefix == V3_PREFIX and "oneOf" in schema:
        return {
            "description": schema.get("description", ""),
            "oneOf": [_convert(alt, prefix) for alt in schema["oneOf"]],
        }
    if name.endswith("intstr.IntOrString"):
        return {
            "description": "IntOrString is a type that can hold an int32 or a string.",
            "type": "string",
            "format": "int-or-string",
        }
    if name.endswith("resource.Quantity"):
        return {
            "description": schema.get("description", "Quantity is a fixed-point representation of a number."),
            "type": "string",
        }
    return _convert(schema, prefix, top=True)


def _strip_v2(node: Any) -> Any:
    """What the apiserver removes from CRD schemas before publishing them in OpenAPI v2."""
    if isinstance(node, list):
        return [_strip_v2(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _strip_v2(v)
        for k, v in node.items()
        if k not in ("oneOf", "anyOf", "allOf", "not", "nullable", "x-kubernetes-validations")
    }
    if (
        node.get("x-kubernetes-preserve-unknown-fields")
        or node.get("x-kubernetes-int-or-string")
        or node.get("nullable")
    ):
        for key in ("type", "properties", "items", "additionalProperties"):
            out.pop(key, None)
    return out


def custom_definitions(rt: ResourceType, prefix: str, v2: bool) -> dict[str, Obj]:
    schema = json.loads(json.dumps(rt.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}))
    if v2:
        schema = _strip_v2(schema)
    props = dict(schema.get("properties") or {})
    props["apiVersion"] = {
        "description": "APIVersion defines the versioned schema of this representation of an object.",
        "type": "string",
    }
    props["kind"] = {
        "description": "Kind is a string value representing the REST resource this object represents.",
        "type": "string",
    }
    props["metadata"] = {"description": "Standard object's metadata.", "$ref": prefix + OBJECT_META}
    schema["properties"] = props
    schema["type"] = "object"
    gvk = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    schema["x-kubernetes-group-version-kind"] = gvk
    name = definition_name(rt)
    list_schema = {
        "description": f"{rt.kind}List is a list of {rt.kind}",
        "required": ["items"],
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": prefix + name}},
            "kind": {"type": "string"},
            "metadata": {"$ref": prefix + "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"},
        },
        "x-kubernetes-group-version-kind": [{"group": rt.group, "kind": rt.list_kind, "version": rt.version}],
    }
    return {name: schema, f"{name}List": list_schema}


def _operation_id(action: str, rt: ResourceType, namespaced: bool, sub: str = "", all_namespaces: bool = False) -> str:
    group = "".join(p.capitalize() for p in (rt.group or "core").split(".")[0:1])
    verb = {
        "get": "read",
        "list": "list",
        "post": "create",
        "put": "replace",
        "patch": "patch",
        "delete": "delete",
        "deletecollection": "deleteCollection",
    }[action]
    scope = "Namespaced" if namespaced else ""
    suffix = sub.capitalize() if sub else ""
    if all_namespaces:
        return f"{verb}{group}{rt.version.capitalize()}{rt.kind}ForAllNamespaces"
    return f"{verb}{group}{rt.version.capitalize()}{scope}{rt.kind}{suffix}"


def _operations(rt: ResourceType) -> list[tuple[str, str, str, tuple[str, ...], str, bool, str]]:
    """(path, method, action, query params, operationId, has body, response definition)."""
    root = f"/apis/{rt.group}/{rt.version}" if rt.group else "/api/v1"
    base = f"{root}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{root}/{rt.plural}"
    ns = rt.namespaced
    kind_def = definition_name(rt)
    list_def = f"{kind_def}List" if rt.is_custom else kind_def + "List"
    ops = [
        (base, "get", "list", LIST_PARAMS, _operation_id("list", rt, ns), False, list_def),
        (base, "post", "post", WRITE_PARAMS, _operation_id("post", rt, ns), True, kind_def),
        (f"{base}/{{name}}", "get", "get", (), _operation_id("get", rt, ns), False, kind_def),
        (f"{base}/{{name}}", "put", "put", WRITE_PARAMS, _operation_id("put", rt, ns), True, kind_def),
        (
            f"{base}/{{name}}",
            "patch",
            "patch",
            (*WRITE_PARAMS, "force"),
            _operation_id("patch", rt, ns),
            True,
            kind_def,
        ),
        (
            f"{base}/{{name}}",
            "delete",
            "delete",
            DELETE_PARAMS,
            _operation_id("delete", rt, ns),
            True,
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        ),
    ]
    if "deletecollection" in rt.verbs:
        ops.append(
            (
                base,
                "delete",
                "deletecollection",
                (*DELETE_PARAMS, *LIST_PARAMS[:-1]),
                _operation_id("deletecollection", rt, ns),
                True,
                "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            )
        )
    if ns:
        ops.append(
            (
                f"{root}/{rt.plural}",
                "get",
                "list",
                LIST_PARAMS,
                _operation_id("list", rt, ns, all_namespaces=True),
                False,
                list_def,
            )
        )
    for sub in sorted(rt.subresources & {"status", "scale"}):
        target = "io.k8s.api.autoscaling.v1.Scale" if sub == "scale" else kind_def
        ops += [
            (f"{base}/{{name}}/{sub}", "get", "get", (), _operation_id("get", rt, ns, sub), False, target),
            (f"{base}/{{name}}/{sub}", "put", "put", WRITE_PARAMS, _operation_id("put", rt, ns, sub), True, target),
            (
                f"{base}/{{name}}/{sub}",
                "patch",
                "patch",
                (*WRITE_PARAMS, "force"),
                _operation_id("patch", rt, ns, sub),
                True,
                target,
            ),
        ]
    return ops


def _param_type(name: str) -> str:
    if name in BOOL_PARAMS:
        return "boolean"
    return "integer" if name in INT_PARAMS else "string"


def _path_params(path: str) -> list[str]:
    return [p[1:-1] for p in path.split("/") if p.startswith("{")]


def _gvk(rt: ResourceType, sub: str) -> Obj:
    if sub == "scale":
        return {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    return {"group": rt.group, "kind": rt.kind, "version": rt.version}


def _body_schema(method: str, target: str, prefix: str) -> Obj:
    if method == "patch":
        return {"$ref": prefix + "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
    if method == "delete":
        return {"$ref": prefix + "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}
    return {"$ref": prefix + target}


PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
CR_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")


def v2_paths(rt: ResourceType) -> dict[str, Obj]:
    prefix = "#/definitions/"
    paths: dict[str, Obj] = {}
    for path, method, action, params, op_id, body, target in _operations(rt):
        sub = path.rsplit("/", 1)[-1] if path.endswith(("/status", "/scale")) else ""
        item = paths.setdefault(path, {"parameters": []})
        if not item["parameters"]:
            item["parameters"] = [
                {
                    "uniqueItems": True,
                    "type": "string",
                    "description": f"name of the {rt.kind}"
                    if p == "name"
                    else "object name and auth scope, such as for teams and projects",
                    "name": p,
                    "in": "path",
                    "required": True,
                }
                for p in _path_params(path)
            ] + [
                {
                    "uniqueItems": True,
                    "type": "string",
                    "description": PARAM_DOCS["pretty"],
                    "name": "pretty",
                    "in": "query",
                }
            ]
        parameters: list[Obj] = []
        if body:
            parameters.append(
                {
                    "name": "body",
                    "in": "body",
                    "required": method != "delete",
                    "schema": _body_schema(method, target, prefix),
                }
            )
        parameters += [
            {"uniqueItems": True, "type": _param_type(p), "description": PARAM_DOCS.get(p, p), "name": p, "in": "query"}
            for p in params
        ]
        consumes = list(CR_PATCH_TYPES if rt.is_custom else PATCH_TYPES) if method == "patch" else ["*/*"]
        item[method] = {
            "description": f"{action} {rt.kind}",
            "consumes": consumes,
            "produces": ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
            "schemes": ["https"],
            "tags": [f"{(rt.group or 'core').split('.')[0]}_{rt.version}"],
            "operationId": op_id,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "schema": {"$ref": prefix + target}},
                "401": {"description": "Unauthorized"},
            },
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": _gvk(rt, sub),
        }
    return paths


def v3_paths(rt: ResourceType) -> dict[str, Obj]:
    prefix = V3_PREFIX
    paths: dict[str, Obj] = {}
    for path, method, action, params, op_id, body, target in _operations(rt):
        sub = path.rsplit("/", 1)[-1] if path.endswith(("/status", "/scale")) else ""
        item = paths.setdefault(path, {"parameters": []})
        if not item["parameters"]:
            item["parameters"] = [
                {
                    "name": p,
                    "in": "path",
                    "description": f"name of the {rt.kind}"
                    if p == "name"
                    else "object name and auth scope, such as for teams and projects",
                    "required": True,
                    "schema": {"type": "string", "uniqueItems": True},
                }
                for p in _path_params(path)
            ] + [
                {
                    "name": "pretty",
                    "in": "query",
                    "description": PARAM_DOCS["pretty"],
                    "schema": {"type": "string", "uniqueItems": True},
                }
            ]
        op: Obj = {
            "tags": [f"{(rt.group or 'core').split('.')[0]}_{rt.version}"],
            "description": f"{action} {rt.kind}",
            "operationId": op_id,
            "parameters": [
                {
                    "name": p,
                    "in": "query",
                    "description": PARAM_DOCS.get(p, p),
                    "schema": {"type": _param_type(p), "uniqueItems": True},
                }
                for p in params
            ],
        }
        if body:
            types = (CR_PATCH_TYPES if rt.is_custom else PATCH_TYPES) if method == "patch" else ("*/*",)
            op["requestBody"] = {
                "content": {t: {"schema": _body_schema(method, target, prefix)} for t in types},
                "required": method != "delete",
            }
        op["responses"] = {
            "200": {
                "description": "OK",
                "content": {
                    t: {"schema": {"$ref": prefix + target}}
                    for t in ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
                },
            },
            "401": {"description": "Unauthorized"},
        }
        op["x-kubernetes-action"] = action
        op["x-kubernetes-group-version-kind"] = _gvk(rt, sub)
        item[method] = op
    return paths


def _digest(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest().upper()


class OpenApi:
    def __init__(self, registry: Registry, kubernetes_version: str) -> None:
        self.registry = registry
        self.info = {"title": "Kubernetes", "version": f"v{kubernetes_version}.1"}
        self._cache: dict[str, Any] = {}
        self._generation = -1

    def _fresh(self) -> None:
        if self._generation != self.registry.generation:
            self._cache.clear()
            self._generation = self.registry.generation

    def _builtin_names(self, types: list[ResourceType]) -> list[str]:
        roots = [rt.definition for rt in types if not rt.is_custom]
        roots += [rt.definition + "List" for rt in types if not rt.is_custom]
        return defs.referenced([*roots, *META_DEFS, OBJECT_META])

    def v2_document(self) -> Obj:
        self._fresh()
        if "v2" not in self._cache:
            prefix = "#/definitions/"
            types = self.registry.all()
            definitions: dict[str, Obj] = {n: builtin_definition(n, prefix) for n in sorted(self._builtin_names(types))}
            paths: dict[str, Obj] = {}
            for rt in types:
                if rt.is_custom:
                    definitions.update(custom_definitions(rt, prefix, v2=True))
                paths.update(v2_paths(rt))
            self._cache["v2"] = {
                "swagger": "2.0",
                "info": self.info,
                "paths": dict(sorted(paths.items())),
                "definitions": definitions,
            }
        return self._cache["v2"]

    def v2_json(self) -> tuple[bytes, str]:
        self._fresh()
        if "v2json" not in self._cache:
            data = json.dumps(self.v2_document(), separators=(",", ":")).encode()
            self._cache["v2json"] = (data, f'"{_digest(data)[:32]}"')
        return self._cache["v2json"]

    def v2_protobuf(self) -> tuple[bytes, str]:
        self._fresh()
        if "v2pb" not in self._cache:
            data = encode_document(self.v2_document())
            self._cache["v2pb"] = (data, f'"{_digest(data)[:32]}"')
        return self._cache["v2pb"]

    def _gv_paths(self) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for group, versions in self.registry.groups():
            for version in versions:
                out[f"apis/{group}/{version}" if group else f"api/{version}"] = (group, version)
        return out

    def v3_document(self, gv_path: str) -> tuple[bytes, str] | None:
        self._fresh()
        key = f"v3:{gv_path}"
        if key not in self._cache:
            gv = self._gv_paths().get(gv_path)
            if gv is None:
                return None
            types = self.registry.in_group_version(*gv)
            prefix = V3_PREFIX
            schemas = {n: builtin_definition(n, prefix) for n in sorted(self._builtin_names(types))}
            paths: dict[str, Obj] = {}
            for rt in types:
                if rt.is_custom:
                    schemas.update(custom_definitions(rt, prefix, v2=False))
                paths.update(v3_paths(rt))
            doc = {
                "openapi": "3.0.0",
                "info": self.info,
                "paths": dict(sorted(paths.items())),
                "components": {
                    "schemas": schemas,
                    "securitySchemes": {
                        "BearerToken": {
                            "type": "apiKey",
                            "description": "Bearer Token authentication",
                            "name": "authorization",
                            "in": "header",
                        }
                    },
                },
            }
            data = json.dumps(doc, separators=(",", ":")).encode()
            self._cache[key] = (data, _digest(data))
        return self._cache[key]

    def v3_root(self) -> Obj:
        paths = {}
        for gv_path in self._gv_paths():
            found = self.v3_document(gv_path)
            if found:
                paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={found[1]}"}
        return {"paths": paths}
