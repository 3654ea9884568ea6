"""The REST verbs of one cluster, independent of HTTP: get, list, create, update, patch, delete.

:class:`Api` runs a write the way kube-apiserver does: decode (typed for built-ins, pruned for
custom resources, unknown/duplicate fields per ``fieldValidation``), default, admit (namespace
lifecycle, pod admission), prepare (strategy), allocate (Service IPs and NodePorts), validate
(schema ``required`` + semantic rules, 422), track managed fields, then store — unless nothing
changed (no write, no new resourceVersion) or ``dryRun=All``. Deletion honours preconditions,
finalizers, graceful deletion of scheduled pods and the propagation policies; the garbage
collector and the namespace/CRD controllers (gc.py, crds.py) finish what deletion starts.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from . import errors, patch, semantic, strategy, validation
from .allocators import ServiceAllocator
from .codec import Body, plain
from .defaults import apply_defaults
from .errors import ApiError, Cause
from .objmeta import deep, generate_name, new_uid, now_rfc3339, ordered, strip_empty_meta
from .resources import Registry, ResourceType
from .schema import SchemaLookup
from .selectors import field_matcher, label_matcher, parse_field_selector
from .store import Obj, Store

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
CR_PATCH_TYPES = f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}"
ALL_PATCH_TYPES = f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}, {APPLY_PATCH}"
VALIDATION_MODES = ("Ignore", "Warn", "Strict")
CRD_STORAGE = ("apiextensions.k8s.io", "customresourcedefinitions")


class FieldManager(Protocol):
    """managedFields bookkeeping (ssa.py through tracking.py)."""

    def update(self, rt: ResourceType, old: Obj | None, new: Obj, manager: str, subresource: str) -> Obj: ...

    def update_scale(
        self, rt: ResourceType, old: Obj, new: Obj, old_scale: Obj, new_scale: Obj, manager: str,
        spec_replicas_path: str,
    ) -> Obj: ...

    def apply(
        self, rt: ResourceType, live: Obj | None, applied: Obj, manager: str, force: bool, subresource: str
    ) -> Obj: ...


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"
    force: bool | None = None
    user_agent: str = ""

    @property
    def manager(self) -> str:
        if self.field_manager:
            return self.field_manager
        return self.user_agent.split("/")[0] if self.user_agent else "unknown"


@dataclass
class Result:
    obj: Obj
    code: int = 200
    warnings: list[str] = field(default_factory=list)


@dataclass
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


def _mismatch(what: str, data: str, expected: str) -> ApiError:
    return errors.bad_request(f"the {what} in the data ({data}) does not match the expected {what} ({expected})")


class Api:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        allocator: ServiceAllocator,
        fields: FieldManager,
        kubernetes_version: str = "1.33",
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.allocator = allocator
        self.fields = fields
        self.schemas = SchemaLookup.load(kubernetes_version)
        self.kubernetes_version = kubernetes_version
        self.rng = random.Random(seed)
        self.on_namespace_created: list[Callable[[str], None]] = []
        self._snapshots: dict[str, list[Obj]] = {}

    # --- reads ----------------------------------------------------------------------------

    def present(self, rt: ResourceType, obj: Obj) -> Obj:
        """The object as served at ``rt``'s version (custom resources share storage)."""
        out = ordered(obj)
        out["apiVersion"] = rt.api_version
        out["kind"] = rt.kind
        return ordered(out)

    def editable(self, rt: ResourceType, obj: Obj) -> Obj:
        """A private deep copy of a stored object, as served at ``rt``, for building an update."""
        return deep(self.present(rt, obj))

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.store.get(rt.storage, namespace if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return obj

    def list(self, rt: ResourceType, namespace: str | None, opts: ListOptions) -> Obj:
        labels = label_matcher(opts.label_selector)
        fields = field_matcher(parse_field_selector(opts.field_selector, self._field_labels(rt)))
        rv = self.store.rv
        self._check_list_rv(opts, rv)
        if opts.continue_token:
            token = self._decode_continue(opts.continue_token)
            items = self._snapshots.get(token["id"])
            if items is None:
                raise errors.expired(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter, or use the continue "
                    "token in this response to retrieve the remainder of the results. Continuing "
                    "with the provided token results in an inconsistent list - objects that were "
                    "created, modified, or deleted between the time the first chunk was returned "
                    "and now may show up in the list."
                )
            rv = token["rv"]
            start = token["start"]
        else:
            items = [
                o
                for o in self.store.items(rt.storage, namespace if rt.namespaced else None)
                if labels(o["metadata"].get("labels") or {}) and fields(o)
            ]
            start = 0
        page = items[start:]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if opts.limit and len(page) > opts.limit:
            page = page[: opts.limit]
            snapshot_id = opts.continue_token and self._decode_continue(opts.continue_token)["id"]
            if not snapshot_id:
                snapshot_id = new_uid()
                self._remember(snapshot_id, items)
            meta["continue"] = self._encode_continue(snapshot_id, rv, start + opts.limit)
            if not opts.label_selector and not opts.field_selector:
                meta["remainingItemCount"] = len(items) - start - opts.limit
        shown = [self.present(rt, o) for o in page]
        if not rt.is_custom:
            shown = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in shown]
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": shown}

    def _field_labels(self, rt: ResourceType) -> tuple[str, ...]:
        if rt.namespaced:
            return rt.field_selectors
        return (*(f for f in rt.field_selectors if f != "metadata.namespace"), "metadata.namespace")

    def _check_list_rv(self, opts: ListOptions, current: int) -> None:
        if not opts.resource_version or opts.resource_version == "0":
            if opts.resource_version_match == "Exact":
                raise errors.bad_request(
                    'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
                )
            return
        try:
            wanted = int(opts.resource_version)
        except ValueError as exc:
            raise errors.bad_request(f"invalid resource version: {opts.resource_version}") from exc
        if wanted > current:
            raise errors.timeout(f"Too large resource version: {wanted}, current: {current}")
        if opts.resource_version_match == "Exact" and wanted != current:
            raise errors.expired(f"too old resource version: {wanted} ({current})")

    def _remember(self, snapshot_id: str, items: list[Obj]) -> None:
        self._snapshots[snapshot_id] = items
        while len(self._snapshots) > 32:
            self._snapshots.pop(next(iter(self._snapshots)))

    @staticmethod
    def _encode_continue(snapshot_id: str, rv: int, start: int) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "id": snapshot_id, "start": start})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @staticmethod
    def _decode_continue(token: str) -> dict[str, Any]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            if data.get("v") != "meta.k8s.io/v1":
                raise ValueError(token)
            return {"rv": int(data["rv"]), "id": str(data["id"]), "start": int(data["start"])}
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
            ) from exc

    # --- decoding -------------------------------------------------------------------------

    def decode(
        self, rt: ResourceType, body: Any, opts: WriteOptions, yaml_duplicates: list[str] | None = None
    ) -> tuple[Obj, list[str]]:
        """Decode a request object for ``rt``: (object, warnings), or raise 400."""
        if opts.field_validation not in VALIDATION_MODES:
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{opts.field_validation}": supported values: '
                '"Ignore", "Strict", "Warn"'
            )
        if not isinstance(body, dict):
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                f"json: cannot unmarshal {type(body).__name__} into Go value of type map[string]interface {{}}"
            )
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if rt.is_custom and not kind:
            raise errors.bad_request(f"Object 'Kind' is missing in '{json.dumps(body, separators=(',', ':'))}'")
        if api_version and api_version != rt.api_version:
            if rt.is_custom or api_version.split("/")[0] != rt.api_version.split("/")[0]:
                raise _mismatch("API version", api_version, rt.api_version)
            raise errors.bad_request(
                f'no kind "{kind or rt.kind}" is registered for version "{api_version}" '
                'in scheme "pkg/api/legacyscheme/scheme.go:30"'
            )
        if kind and kind != rt.kind:
            raise _mismatch("kind", kind, rt.kind)
        if rt.is_custom:
            obj, findings = validation.prune_custom(
                body, rt.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            )
        else:
            obj, findings = validation.decode_typed(body, rt.definition, rt.kind, rt.version)
        obj = plain(obj)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        obj.setdefault("metadata", {})
        findings = [*(yaml_duplicates or []), *findings]
        if opts.field_validation == "Ignore" or not findings:
            return obj, []
        if opts.field_validation == "Strict":
            if yaml_duplicates:
                rest_findings = findings[len(yaml_duplicates) :]
                text = "yaml: unmarshal errors:\n  " + "\n  ".join(yaml_duplicates)
                message = ", ".join([text, *rest_findings])
            else:
                message = ", ".join(findings)
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {message}"
            )
        return obj, findings

    # --- admission and preparation --------------------------------------------------------

    def _namespace_for(self, rt: ResourceType, obj: Obj, namespace: str) -> None:
        meta = obj["metadata"]
        if not rt.namespaced:
            meta.pop("namespace", None)
            return
        given = meta.get("namespace")
        if given and given != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace

    def _admit_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        if not rt.namespaced:
            return
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            raise errors.forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )

    def _admit_pod(self, obj: Obj, namespace: str) -> None:
        strategy.admit_pod(obj)
        sa = obj["spec"]["serviceAccountName"]
        if self.store.get(("", "serviceaccounts"), namespace, sa) is None:
            raise errors.forbidden(
                "pods",
                "",
                obj["metadata"].get("name", ""),
                f'error looking up service account {namespace}/{sa}: serviceaccount "{sa}" not found',
            )

    def _validate(self, rt: ResourceType, obj: Obj, old: Obj | None, extra: list[Cause]) -> None:
        causes = list(extra)
        if rt.is_custom:
            causes += semantic.validate(rt, obj, old)
            causes += validation.validate_custom(obj, rt.schema or {})
        else:
            causes += semantic.validate(rt, obj, old)
            named = {c.field for c in causes}
            causes += [c for c in validation.required_causes(obj, rt.definition) if c.field not in named]
        if causes:
            raise errors.invalid_object(rt.kind, rt.group, obj["metadata"].get("name", ""), causes)

    def _allocate(self, rt: ResourceType, obj: Obj, old: Obj | None) -> list[Cause]:
        if (rt.group, rt.kind) != ("", "Service"):
            return []
        return self.allocator.allocate(obj, old, self.store.items(rt.storage))

    # --- create ---------------------------------------------------------------------------

    def create(
        self, rt: ResourceType, namespace: str, body: Any, opts: WriteOptions, yaml_duplicates: list[str] | None = None
    ) -> Result:
        obj, warnings = self.decode(rt, body, opts, yaml_duplicates)
        return self.create_decoded(rt, namespace, obj, opts, warnings)

    def create_decoded(
        self, rt: ResourceType, namespace: str, obj: Obj, opts: WriteOptions, warnings: list[str], applied: bool = False
    ) -> Result:
        meta = obj["metadata"]
        self._namespace_for(rt, obj, namespace)
        if meta.get("resourceVersion"):
            raise ApiError(500, "", "resourceVersion should not be set on objects to be created")
        if not meta.get("name") and meta.get("generateName"):
            for _ in range(8):
                candidate = generate_name(meta["generateName"], self.rng)
                if self.store.get(rt.storage, meta.get("namespace", ""), candidate) is None:
                    meta["name"] = candidate
                    break
        name = meta.get("name", "")
        self._admit_namespace(rt, namespace, name)
        if rt.is_custom:
            crd = self.store.get(CRD_STORAGE, "", rt.crd_name)
            if crd is not None and crd["metadata"].get("deletionTimestamp"):
                raise errors.method_not_allowed("create not allowed while custom resource definition is terminating")
        apply_defaults(rt.group, rt.kind, obj)
        if (rt.group, rt.kind) == ("", "Pod"):
            self._admit_pod(obj, namespace)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        strategy.prepare_create(rt, obj)
        causes = self._allocate(rt, obj, None)
        self._validate(rt, obj, None, causes)
        if name and self.store.get(rt.storage, meta.get("namespace", ""), name) is not None:
            raise errors.already_exists(rt.plural, rt.group, name)
        if not applied:
            obj = self.fields.update(rt, None, obj, opts.manager, "")
        strip_empty_meta(obj["metadata"])
        obj = ordered(obj)
        if opts.dry_run:
            return Result(self.present(rt, obj), 201, warnings)
        stored = self.store.put(rt.storage, obj)
        if (rt.group, rt.kind) == ("", "Namespace"):
            for hook in self.on_namespace_created:
                hook(name)
        return Result(self.present(rt, stored), 201, warnings)

    # --- update ---------------------------------------------------------------------------

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        opts: WriteOptions,
        subresource: str = "",
        yaml_duplicates: list[str] | None = None,
    ) -> Result:
        obj, warnings = self.decode(rt, body, opts, yaml_duplicates)
        meta = obj["metadata"]
        if not meta.get("name"):
            meta["name"] = name
        if meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        old = self.store.get(rt.storage, namespace if rt.namespaced else "", name)
        if old is None:
            if rt.create_on_update and not subresource:
                meta.pop("resourceVersion", None)
                return self.create_decoded(rt, namespace, obj, opts, warnings)
            raise errors.not_found(rt.plural, rt.group, name)
        return self.update_decoded(rt, namespace, obj, old, opts, subresource, warnings)

    def update_decoded(
        self,
        rt: ResourceType,
        namespace: str,
        obj: Obj,
        old: Obj,
        opts: WriteOptions,
        subresource: str,
        warnings: list[str],
        applied: bool = False,
    ) -> Result:
        meta, old_meta = obj["metadata"], old["metadata"]
        self._namespace_for(rt, obj, namespace)
        rv = meta.get("resourceVersion", "")
        if rv and rv != old_meta["resourceVersion"]:
            raise errors.stale(rt.plural, rt.group, old_meta["name"])
        if not rv and (rt.is_custom or rt.kind == "CustomResourceDefinition") and not applied:
            raise errors.invalid_object(
                rt.kind,
                rt.group,
                old_meta["name"],
                [errors.invalid("metadata.resourceVersion", errors.GoSyntax("0x0"), "must be specified for an update")],
            )
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            raise errors.conflict(
                rt.plural,
                rt.group,
                old_meta["name"],
                f"Precondition failed: UID in precondition: {old_meta.get('uid')}, UID in object meta: {meta['uid']}",
            )
        meta["uid"] = old_meta.get("uid")
        meta["creationTimestamp"] = old_meta.get("creationTimestamp")
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            if key in old_meta:
                meta[key] = old_meta[key]
            elif key == "deletionGracePeriodSeconds":
                meta.pop(key, None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if subresource not in ("status", "finalize"):
            apply_defaults(rt.group, rt.kind, obj)
        strategy.prepare_update(rt, obj, old, subresource)
        causes = self._allocate(rt, obj, old) if not subresource else []
        self._validate(rt, obj, old, causes)
        if subresource == "scale":
            old_scale = self.scale_of(rt, old)
            new_scale = deep(old_scale)
            new_scale["spec"]["replicas"] = _path_get(obj, self._scale_paths(rt)[0])
            obj = self.fields.update_scale(
                rt, self.present(rt, old), obj, old_scale, new_scale, opts.manager, self._scale_paths(rt)[0]
            )
        elif not applied:
            obj = self.fields.update(rt, old, obj, opts.manager, subresource)
        strip_empty_meta(obj["metadata"])
        obj = ordered(obj)
        if obj == old:
            return Result(self.present(rt, old), 200, warnings)
        if opts.dry_run:
            return Result(self.present(rt, obj), 200, warnings)
        if self._finalized(obj):
            gone = self.store.remove(rt.storage, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            return Result(self.present(rt, gone or obj), 200, warnings)
        stored = self.store.put(rt.storage, obj)
        return Result(self.present(rt, stored), 200, warnings)

    @staticmethod
    def _finalized(obj: Obj) -> bool:
        """Marked for deletion and nothing left to wait for: the object goes away."""
        meta = obj["metadata"]
        if obj.get("kind") == "Namespace" and (obj.get("spec") or {}).get("finalizers"):
            return False
        return (
            bool(meta.get("deletionTimestamp"))
            and not meta.get("finalizers")
            and not meta.get("deletionGracePeriodSeconds")
        )

    # --- patch ----------------------------------------------------------------------------

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        raw: Any,
        content_type: str,
        opts: WriteOptions,
        subresource: str = "",
        yaml_duplicates: list[str] | None = None,
    ) -> Result:
        if content_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
            raise errors.unsupported_media_type(CR_PATCH_TYPES if rt.is_custom else ALL_PATCH_TYPES)
        if content_type == STRATEGIC_PATCH and rt.is_custom:
            raise errors.unsupported_media_type(CR_PATCH_TYPES)
        if content_type == APPLY_PATCH:
            return self.apply(rt, namespace, name, raw, opts, subresource, yaml_duplicates)
        if opts.force is not None:
            raise errors.bad_request("force: Forbidden: may not be specified for non-apply patch")
        old = self.store.get(rt.storage, namespace if rt.namespaced else "", name)
        if old is None:
            raise errors.not_found(rt.plural, rt.group, name)
        current = self.scale_of(rt, old) if subresource == "scale" else self.present(rt, old)
        patch_findings: list[str] = []
        if content_type == JSON_PATCH:
            patch_findings = _json_patch_findings(raw)
            patched = patch.apply_json_patch(current, plain(raw))
        elif content_type == MERGE_PATCH:
            patch_findings = _duplicate_findings(raw, "")
            patched = patch.apply_merge_patch(current, plain(raw))
        else:
            patch_findings = _duplicate_findings(raw, "")
            kind_schema = self.schemas.kind(rt.api_version, rt.kind)
            if kind_schema is None:
                raise errors.unsupported_media_type(CR_PATCH_TYPES)
            patched = patch.apply_strategic_merge_patch(current, plain(raw), kind_schema.root)
        if not isinstance(patched, dict):
            raise errors.bad_request(
                f"json: cannot unmarshal {type(patched).__name__} into Go value of type map[string]interface {{}}"
            )
        if subresource == "scale":
            return self.update_scale(rt, namespace, name, patched, opts)
        patched_meta = patched.get("metadata") or {}
        if patched_meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({patched_meta.get('name')}) does not match the name on the URL ({name})"
            )
        obj, _ = self.decode(rt, patched, replace(opts, field_validation="Ignore"))
        findings: list[str] = []
        if opts.field_validation != "Ignore":
            findings = patch_findings + self._unknown_after_patch(rt, patched)
            if findings and opts.field_validation == "Strict":
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                    f"strict decoding error: {', '.join(findings)}"
                )
        return self.update_decoded(rt, namespace, obj, old, opts, subresource, findings)

    def _unknown_after_patch(self, rt: ResourceType, patched: Obj) -> list[str]:
        if rt.is_custom:
            _, findings = validation.prune_custom(
                patched, rt.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            )
        else:
            _, findings = validation.decode_typed(patched, rt.definition, rt.kind, rt.version)
        return sorted(f for f in findings if f.startswith("unknown"))

    def apply(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        raw: Any,
        opts: WriteOptions,
        subresource: str,
        yaml_duplicates: list[str] | None,
    ) -> Result:
        if not opts.field_manager:
            raise errors.bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        obj, warnings = self.decode(rt, raw, opts, yaml_duplicates)
        meta = obj["metadata"]
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        old = self.store.get(rt.storage, namespace if rt.namespaced else "", name)
        if old is None:
            if subresource:
                raise errors.not_found(rt.plural, rt.group, name)
            created = self.fields.apply(rt, None, obj, opts.manager, bool(opts.force), "")
            return self.create_decoded(rt, namespace, created, opts, warnings, applied=True)
        merged = self.fields.apply(rt, self.present(rt, old), obj, opts.manager, bool(opts.force), subresource)
        merged["metadata"]["resourceVersion"] = meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
        return self.update_decoded(rt, namespace, merged, old, opts, subresource, warnings, applied=True)

    # --- delete ---------------------------------------------------------------------------

    def delete(self, rt: ResourceType, namespace: str, name: str, options: Obj, dry_run: bool) -> Result:
        old = self.store.get(rt.storage, namespace if rt.namespaced else "", name)
        if old is None:
            raise errors.not_found(rt.plural, rt.group, name)
        pre = options.get("preconditions") or {}
        old_meta = old["metadata"]
        if pre.get("uid") and pre["uid"] != old_meta.get("uid"):
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {old_meta.get('uid')}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != old_meta.get("resourceVersion"):
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {old_meta.get('resourceVersion')}",
            )
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.invalid_object(
                "DeleteOptions",
                "meta.k8s.io",
                "",
                [errors.not_supported("propagationPolicy", policy, ["Background", "Foreground", "Orphan"])],
            )
        obj = deep(old)
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers = [f for f in finalizers if f != "foregroundDeletion"] + ["orphan"]
        elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers = [f for f in finalizers if f != "orphan"] + ["foregroundDeletion"]
        elif policy == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        grace = self._grace_period(rt, old, options.get("gracePeriodSeconds"))
        if (rt.group, rt.kind) == ("", "Namespace"):
            return self._delete_namespace(rt, obj, dry_run)
        if (rt.group, rt.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            finalizers = (
                [*finalizers, "customresourcecleanup.apiextensions.k8s.io"]
                if "customresourcecleanup.apiextensions.k8s.io" not in finalizers
                else finalizers
            )
        if not finalizers and not grace:
            if dry_run:
                return Result(self._deleted_status(rt, old))
            gone = self.store.remove(rt.storage, old_meta.get("namespace", ""), name)
            if rt.plural == "pods" and not rt.group:
                return Result(self.present(rt, gone or old))
            return Result(self._deleted_status(rt, old))
        if not meta.get("deletionTimestamp"):
            if meta.get("generation"):
                meta["generation"] += 1
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = grace or 0
        elif grace is not None and grace < (meta.get("deletionGracePeriodSeconds") or 0):
            meta["deletionGracePeriodSeconds"] = grace
        meta["finalizers"] = finalizers
        strip_empty_meta(meta)
        if (rt.group, rt.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            set_condition(
                obj, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"
            )
        if obj == old or dry_run:
            return Result(self.present(rt, obj))
        if self._finalized(obj):
            self.store.remove(rt.storage, meta.get("namespace", ""), name)
            return Result(self._deleted_status(rt, old))
        return Result(self.present(rt, self.store.put(rt.storage, ordered(obj))))

    def _grace_period(self, rt: ResourceType, obj: Obj, requested: Any) -> int | None:
        if (rt.group, rt.kind) != ("", "Pod"):
            return None
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return int(requested)
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def _delete_namespace(self, rt: ResourceType, obj: Obj, dry_run: bool) -> Result:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = 0
            obj["status"] = {**(obj.get("status") or {}), "phase": "Terminating"}
        if dry_run:
            return Result(self.present(rt, obj))
        if not (obj.get("spec") or {}).get("finalizers") and not meta.get("finalizers"):
            self.store.remove(rt.storage, "", meta["name"])
            return Result(self._deleted_status(rt, obj))
        return Result(self.present(rt, self.store.put(rt.storage, ordered(obj))))

    @staticmethod
    def _deleted_status(rt: ResourceType, obj: Obj) -> Obj:
        details: dict[str, Any] = {"name": obj["metadata"]["name"]}
        if rt.group:
            details["group"] = rt.group
        details["kind"] = rt.plural
        details["uid"] = obj["metadata"].get("uid")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def delete_collection(
        self, rt: ResourceType, namespace: str | None, list_opts: ListOptions, options: Obj, dry_run: bool
    ) -> Result:
        listed = self.list(rt, namespace, ListOptions(list_opts.label_selector, list_opts.field_selector))
        deleted = []
        for item in listed["items"]:
            meta = item["metadata"]
            try:
                result = self.delete(rt, meta.get("namespace", ""), meta["name"], options, dry_run)
            except ApiError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(item if result.obj.get("kind") == "Status" else result.obj)
        out = dict(listed)
        out["items"] = deleted
        return Result(out)

    # --- scale ----------------------------------------------------------------------------

    def scale_of(self, rt: ResourceType, obj: Obj) -> Obj:
        meta = obj["metadata"]
        spec_path, status_path, selector_path = self._scale_paths(rt)
        replicas = _path_get(obj, spec_path) or 0
        status: dict[str, Any] = {"replicas": _path_get(obj, status_path) or 0}
        selector = _path_get(obj, selector_path) if selector_path else None
        if isinstance(selector, dict):
            status["selector"] = _selector_string(selector)
        elif isinstance(selector, str) and selector:
            status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
            },
            "spec": {"replicas": replicas},
            "status": status,
        }

    def _scale_paths(self, rt: ResourceType) -> tuple[str, str, str]:
        if rt.scale_paths:
            return (
                rt.scale_paths.get("specReplicasPath", ".spec.replicas"),
                rt.scale_paths.get("statusReplicasPath", ".status.replicas"),
                rt.scale_paths.get("labelSelectorPath", ""),
            )
        return ".spec.replicas", ".status.replicas", ".spec.selector"

    def update_scale(self, rt: ResourceType, namespace: str, name: str, scale: Any, opts: WriteOptions) -> Result:
        old = self.get(rt, namespace, name)
        if not isinstance(scale, dict):
            raise errors.bad_request("the body of the request was not a Scale object")
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise errors.bad_request(
                'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal into Go struct '
                "field ScaleSpec.spec.replicas of type int32"
            )
        if replicas < 0:
            raise errors.invalid_object(
                "Scale",
                "autoscaling",
                name,
                [errors.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
            )
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.stale(rt.plural, rt.group, name)
        obj = self.editable(rt, old)
        _path_set(obj, self._scale_paths(rt)[0], replicas)
        result = self.update_decoded(rt, namespace, obj, old, opts, "scale", [])
        return Result(self.scale_of(rt, result.obj), 200, result.warnings)


def _path_get(obj: Obj, path: str) -> Any:
    node: Any = obj
    for key in path.strip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _path_set(obj: Obj, path: str, value: Any) -> None:
    keys = path.strip(".").split(".")
    node = obj
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def _selector_string(selector: Obj) -> str:
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        values = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(expr["key"])
        elif op == "DoesNotExist":
            parts.append(f"!{expr['key']}")
    return ",".join(parts)


def set_condition(obj: Obj, kind: str, status: str, reason: str, message: str) -> None:
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == kind:
            if cond.get("status") != status:
                cond["lastTransitionTime"] = now_rfc3339()
            cond.update(status=status, reason=reason, message=message)
            return
    conditions.append(
        {"type": kind, "status": status, "lastTransitionTime": now_rfc3339(), "reason": reason, "message": message}
    )


def set_pod_condition(pod: Obj, kind: str, status: str) -> None:
    """podutil.UpdatePodCondition: add or update a condition without reason or message; its
    ``lastTransitionTime`` moves only when the status changes."""
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == kind:
            if cond.get("status") != status:
                cond.update(status=status, lastTransitionTime=now_rfc3339())
            return
    conditions.append({"type": kind, "status": status, "lastTransitionTime": now_rfc3339()})


def _duplicate_findings(node: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(node, Body):
        out += [f'duplicate field "{path + "." if path else ""}{k}"' for k in node.duplicates]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _duplicate_findings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _duplicate_findings(value, f"{path}[{i}]")
    return out


def _json_patch_findings(ops: Any) -> list[str]:
    out: list[str] = []
    if not isinstance(ops, list):
        return out
    allowed = {"op", "path", "value", "from"}
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            continue
        out += [f'json patch unknown field "[{i}].{k}"' for k in op if k not in allowed]
        out += [f'json patch duplicate field "[{i}].{k}"' for k in getattr(op, "duplicates", ())]
    return out
