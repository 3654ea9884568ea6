"""Schema validation: typed decoding of built-in kinds and structural schemas of custom resources.

Built-in kinds (``decode_typed``) are checked the way the apiserver's Go decoder sees them:
a wrong JSON type is a 400 ``<Kind> in version "v1" cannot be handled as a <Kind>: json: cannot
unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32``; unknown and
duplicate fields are findings (``unknown field "spec.foo"``) that the caller turns into warnings,
errors or nothing according to ``fieldValidation``; the OpenAPI ``required`` lists become 422
``Required value`` causes (``required_causes``), as the hand-written validation reports them.

Custom resources (``prune_custom`` then ``validate_custom``) follow apiextensions-apiserver:
unknown fields are pruned unless ``x-kubernetes-preserve-unknown-fields``, nulls of non-nullable
fields are dropped, ``default`` values filled in, and violations of type, enum, required, pattern,
bounds, lengths and list types are 422 Invalid with one cause per field.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import definitions as defs
from .errors import ApiError, Cause, invalid, not_supported, required, type_invalid
from .quantity import QUANTITY_ERROR, canonical_quantity

Schema = dict[str, Any]


@dataclass
class Findings:
    """Unknown/duplicate field messages in the order the decoder met them."""

    messages: list[str] = field(default_factory=list)

    def unknown(self, path: str) -> None:
        self.messages.append(f'unknown field "{path}"')

    def duplicate(self, path: str) -> None:
        self.messages.append(f'duplicate field "{path}"')


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return f"number {value}"


def _short(definition: str) -> str:
    parts = definition.split(".")
    return f"{parts[-2]}.{parts[-1]}" if len(parts) > 1 else definition


def _go_type(schema: Schema) -> str:
    resolved, name = defs.resolve(schema)
    if name:
        if "oneOf" in resolved:
            return "intstr.IntOrString" if "IntOrString" in name else "resource.Quantity"
        return _short(name)
    types = defs.types_of(resolved)
    if "integer" in types:
        return resolved.get("format", "int64")
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    if "string" in types:
        return "[]uint8" if resolved.get("format") == "byte" else "string"
    if "array" in types:
        return "[]" + _go_type(resolved.get("items", {}))
    if "object" in types and isinstance(resolved.get("additionalProperties"), dict):
        return "map[string]" + _go_type(resolved["additionalProperties"])
    return "interface {}"


class _Typed:
    def __init__(self, kind: str, version: str) -> None:
        self.kind = kind
        self.version = version
        self.findings = Findings()

    def fail(self, detail: str) -> ApiError:
        return ApiError(
            400,
            "BadRequest",
            f'{self.kind} in version "{self.version}" cannot be handled as a {self.kind}: {detail}',
        )

    def mismatch(self, value: Any, schema: Schema, struct: str, gopath: str) -> ApiError:
        return self.fail(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
            f"{struct}.{gopath} of type {_go_type(schema)}"
        )

    def walk(self, value: Any, schema: Schema, path: str, struct: str, gopath: str) -> Any:
        resolved, name = defs.resolve(schema)
        if name:
            if "oneOf" in resolved:
                return self.scalar_union(value, resolved, name, schema, struct, gopath)
            if name.endswith((".Time", ".MicroTime")):
                return self.timestamp(value, resolved, schema, struct, gopath, micro=name.endswith("MicroTime"))
            struct = name.rsplit(".", 1)[-1]
        types = defs.types_of(resolved)
        if not types:
            return value
        if "object" in types:
            if not isinstance(value, dict):
                raise self.mismatch(value, schema, struct, gopath)
            return self.walk_object(value, resolved, path, struct, gopath)
        if "array" in types:
            if not isinstance(value, list):
                raise self.mismatch(value, schema, struct, gopath)
            items = resolved.get("items", {})
            return [
                v
                for i, item in enumerate(value)
                if (v := self.walk(item, items, f"{path}[{i}]", struct, gopath)) is not None or item is None
            ]
        return self.primitive(value, resolved, types[0], schema, struct, gopath)

    def walk_object(self, value: dict[str, Any], schema: Schema, path: str, struct: str, gopath: str) -> dict[str, Any]:
        props: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        dups = set(getattr(value, "duplicates", ()))
        out: dict[str, Any] = {}
        if not props and not isinstance(extra, dict):
            return dict(value)
        for key, item in value.items():
            sub = props.get(key)
            field_path = _join(gopath, key)
            if sub is None and isinstance(extra, dict):
                sub, field_path = extra, gopath
            here = _join(path, key)
            if sub is None:
                self.findings.unknown(here)
                continue
            if key in dups:
                self.findings.duplicate(here)
            if item is None:
                continue
            out[key] = self.walk(item, sub, here, struct, field_path)
        return out

    def primitive(self, value: Any, schema: Schema, kind: str, ref: Schema, struct: str, gopath: str) -> Any:
        if kind == "string":
            if not isinstance(value, str):
                raise self.mismatch(value, ref, struct, gopath)
            fmt = schema.get("format")
            if fmt == "byte":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise self.fail(f"illegal base64 data at input byte {_bad_b64(value)}") from exc
            elif fmt == "date-time" and not _rfc3339(value):
                raise self.fail(
                    f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}" as "2006"'
                )
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self.mismatch(value, ref, struct, gopath)
            return value
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.mismatch(value, ref, struct, gopath)
            if schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
                raise self.mismatch(value, ref, struct, gopath)
            return value
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.mismatch(value, ref, struct, gopath)
            return value
        return value

    def timestamp(self, value: Any, schema: Schema, ref: Schema, struct: str, gopath: str, micro: bool) -> str:
        """metav1.Time/MicroTime as Go writes them back: UTC, seconds or microseconds."""
        if not isinstance(value, str):
            raise self.mismatch(value, ref, struct, gopath)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.fail(
                f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}" as "2006"'
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")

    def scalar_union(self, value: Any, schema: Schema, name: str, ref: Schema, struct: str, gopath: str) -> Any:
        if name.endswith("IntOrString"):
            if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
                return value
            raise self.mismatch(value, ref, struct, gopath)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.mismatch(value, ref, struct, gopath)
        canonical = canonical_quantity(value)
        if canonical is None:
            raise self.fail(QUANTITY_ERROR)
        return canonical


def _bad_b64(value: str) -> int:
    for i, ch in enumerate(value):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return max(len(value) - len(value) % 4, 0)


def _rfc3339(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


def decode_typed(obj: dict[str, Any], definition: str, kind: str, version: str) -> tuple[dict[str, Any], list[str]]:
    """Decode a built-in object against its definition: (cleaned object, findings)."""
    walker = _Typed(kind, version)
    schema = {"$ref": defs.REF_PREFIX + definition}
    cleaned = walker.walk_object(obj, defs.resolve(schema)[0], "", kind, "")
    for key in ("apiVersion", "kind"):
        if key in obj and key not in cleaned:
            cleaned[key] = obj[key]
    return cleaned, walker.findings.messages


def required_causes(obj: Any, definition: str) -> list[Cause]:
    """422 causes for fields the OpenAPI schema lists as required but the object lacks."""
    out: list[Cause] = []
    _required(obj, {"$ref": defs.REF_PREFIX + definition}, "", out)
    return out


def _required(value: Any, schema: Schema, path: str, out: list[Cause]) -> None:
    resolved, _ = defs.resolve(schema)
    if isinstance(value, dict):
        props = resolved.get("properties") or {}
        for key in resolved.get("required") or []:
            if key not in value and key not in ("apiVersion", "kind"):
                out.append(required(_join(path, key)))
        extra = resolved.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key) or (extra if isinstance(extra, dict) else None)
            if sub is not None:
                _required(item, sub, _join(path, key), out)
    elif isinstance(value, list) and "items" in resolved:
        for i, item in enumerate(value):
            _required(item, resolved["items"], f"{path}[{i}]", out)


# --- custom resources ---------------------------------------------------------------------

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune_custom(obj: dict[str, Any], schema: Schema) -> tuple[dict[str, Any], list[str]]:
    """Prune fields a structural schema does not declare; fill defaults. Returns findings."""
    findings = Findings()
    duplicates: list[str] = []
    out = _prune_object(obj, schema, "", findings, duplicates, root=True)
    unknown = [m for m in findings.messages if m.startswith("unknown")]
    return out, [*duplicates, *unknown]


def _prune_meta(meta: Any, path: str, findings: Findings, duplicates: list[str]) -> Any:
    if not isinstance(meta, dict):
        return meta
    walker = _Typed("", "")
    walker.findings = findings
    try:
        cleaned = walker.walk_object(meta, defs.definitions()[OBJECT_META], path, "ObjectMeta", path)
    except ApiError:
        return meta
    duplicates.extend(f'duplicate field "{_join(path, k)}"' for k in getattr(meta, "duplicates", ()))
    return cleaned


def _prune_object(
    value: Any,
    schema: Schema,
    path: str,
    findings: Findings,
    duplicates: list[str],
    root: bool = False,
) -> Any:
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        return [_prune_object(v, items, f"{path}[{i}]", findings, duplicates) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    for key in getattr(value, "duplicates", ()):
        duplicates.append(f'duplicate field "{_join(path, key)}"')
    props: dict[str, Schema] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    embedded = root or schema.get("x-kubernetes-embedded-resource")
    out: dict[str, Any] = {}
    for key, item in value.items():
        here = _join(path, key)
        if embedded and key in ("apiVersion", "kind"):
            out[key] = item
            continue
        if embedded and key == "metadata":
            out[key] = _prune_meta(item, here, findings, duplicates)
            continue
        sub = props.get(key)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is None:
            if _preserves(schema) or extra is True:
                out[key] = item
            else:
                findings.unknown(here)
            continue
        if item is None and not sub.get("nullable"):
            continue
        out[key] = _prune_object(item, sub, here, findings, duplicates)
    for key, sub in props.items():
        if key not in out and "default" in sub and not (embedded and key == "metadata"):
            out[key] = _prune_object(_copy(sub["default"]), sub, _join(path, key), Findings(), [])
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_TYPE_NAMES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPE_NAMES.get(kind)
    return expected is None or isinstance(value, expected)


def validate_custom(obj: dict[str, Any], schema: Schema) -> list[Cause]:
    """422 causes for a (pruned) custom resource against its openAPIV3Schema."""
    out: list[Cause] = []
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    root = {k: v for k, v in schema.items() if k != "required"}
    props = {k: v for k, v in (schema.get("properties") or {}).items() if k not in ("apiVersion", "kind", "metadata")}
    root["properties"] = props
    for key in schema.get("required") or []:
        if key not in obj:
            out.append(required(key))
    _validate(body, root, "", out)
    return out


def _validate(value: Any, schema: Schema, path: str, out: list[Cause]) -> None:
    label = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            out.append(type_invalid(label, value, f'{label} in body must be of type {schema["type"]}: "null"'))
        return
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _is_type(value, "integer")):
            out.append(
                type_invalid(label, value, f"{label} in body must be of type integer,string: {_quoted_type(value)}")
            )
            return
    elif kind and not _is_type(value, kind):
        out.append(type_invalid(label, value, f"{label} in body must be of type {kind}: {_quoted_type(value)}"))
        return
    if "enum" in schema and value not in schema["enum"]:
        out.append(not_supported(label, value, [str(v) for v in schema["enum"]]))
    if isinstance(value, str):
        _validate_string(value, schema, label, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(value, schema, label, out)
    elif isinstance(value, list):
        _validate_array(value, schema, path, label, out)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, label, out)
    for combinator in ("allOf",):
        for sub in schema.get(combinator) or []:
            _validate(value, sub, path, out)
    if schema.get("anyOf") and not any(_passes(value, s) for s in schema["anyOf"]):
        out.append(invalid(label, value, "must validate at least one schema (anyOf)"))
    if schema.get("oneOf") and sum(_passes(value, s) for s in schema["oneOf"]) != 1:
        out.append(invalid(label, value, "must validate one and only one schema (oneOf)"))
    if isinstance(schema.get("not"), dict) and _passes(value, schema["not"]):
        out.append(invalid(label, value, "must not validate the schema (not)"))


def _passes(value: Any, schema: Schema) -> bool:
    probe: list[Cause] = []
    _validate(value, schema, "x", probe)
    return not probe


def _quoted_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    for py, name in names.items():
        if isinstance(value, py):
            return f'"{name}"'
    return '"integer"' if isinstance(value, int) else '"number"'


def _validate_string(value: str, schema: Schema, label: str, out: list[Cause]) -> None:
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(invalid(label, value, f"{label} in body should match '{schema['pattern']}'"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(invalid(label, value, f"{label} in body should be at least {schema['minLength']} chars long"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(Cause("FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes", label))
    if schema.get("format") == "date-time" and not _rfc3339(value):
        out.append(invalid(label, value, f"{label} in body must be of type date-time: {value!r}"))


def _validate_number(value: float, schema: Schema, label: str, out: list[Cause]) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and (value < low or (schema.get("exclusiveMinimum") and value == low)):
        word = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
        out.append(invalid(label, value, f"{label} in body should be {word} {low}"))
    if high is not None and (value > high or (schema.get("exclusiveMaximum") and value == high)):
        word = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
        out.append(invalid(label, value, f"{label} in body should be {word} {high}"))
    step = schema.get("multipleOf")
    if step and (value / step) != int(value / step):
        out.append(invalid(label, value, f"{label} in body should be a multiple of {step}"))


def _validate_array(value: list[Any], schema: Schema, path: str, label: str, out: list[Cause]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(invalid(label, len(value), f"{label} in body should have at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(
            Cause("FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxItems']} items", label)
        )
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set" or schema.get("uniqueItems"):
        seen: list[Any] = []
        for i, item in enumerate(value):
            if item in seen:
                out.append(Cause("FieldValueDuplicate", f"Duplicate value: {_render(item)}", f"{path}[{i}]"))
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: list[tuple[Any, ...]] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            key = tuple(item.get(k) for k in keys)
            if key in seen_keys:
                shown = {k: item.get(k) for k in keys}
                out.append(Cause("FieldValueDuplicate", f"Duplicate value: {_render(shown)}", f"{path}[{i}]"))
            seen_keys.append(key)
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", out)


def _render(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _validate_object(value: dict[str, Any], schema: Schema, path: str, label: str, out: list[Cause]) -> None:
    for key in schema.get("required") or []:
        if key not in value:
            out.append(required(_join(path, key)))
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        out.append(
            invalid(label, len(value), f"{label} in body should have at least {schema['minProperties']} properties")
        )
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        out.append(
            Cause(
                "FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxProperties']} items", label
            )
        )
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        sub = props.get(key)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is not None:
            _validate(item, sub, _join(path, key), out)
