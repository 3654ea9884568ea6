"""Request bodies in, response bodies out: JSON/YAML decoding and Accept negotiation.

Bodies are decoded with duplicate-key tracking, because the apiserver's strict decoder reports
``duplicate field "metadata.name"`` (JSON) or ``line 5: key "name" already set in map`` (YAML).
Responses are JSON unless the client asked for YAML; the Table and PartialObjectMetadata
"as=" variants of ``application/json`` are recognised so the handlers can honour them.
Protobuf is never produced: clients that ask for it always list JSON (or ``*/*``) as fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import bad_request, not_acceptable, unsupported_media_type
from .protobuf import decode_object

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
ACCEPTED = f"{JSON}, {YAML}, {PROTOBUF}"
BODY_TYPES = (
    JSON,
    YAML,
    PROTOBUF,
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


class Body(dict):
    """A decoded JSON object that remembers the keys it saw twice."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> Body:
    out = Body()
    out.duplicates = []
    for key, value in pairs:
        if key in out:
            out.duplicates.append(key)
        out[key] = value
    return out


class _DupLoader(yaml.SafeLoader):
    """SafeLoader that records ``line N: key "k" already set in map`` like go-yaml."""

    yaml_duplicates: list[str]


def _construct_mapping(loader: _DupLoader, node: yaml.MappingNode, deep: bool = False) -> Body:
    loader.flatten_mapping(node)
    out = Body()
    out.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            loader.yaml_duplicates.append(f'line {key_node.start_mark.line + 1}: key "{key}" already set in map')
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_DupLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _tag in ("tag:yaml.org,2002:timestamp",):
    _DupLoader.yaml_implicit_resolvers = {
        k: [(t, r) for t, r in v if t != _tag] for k, v in _DupLoader.yaml_implicit_resolvers.items()
    }


def plain(value: Any) -> Any:
    """The same JSON value with :class:`Body` maps turned back into plain dicts."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass
class Decoded:
    obj: Any
    yaml_duplicates: list[str]


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def decode(raw: bytes, content_type: str | None) -> Decoded:
    """Decode a request body as JSON or YAML; malformed input is 400 BadRequest."""
    kind = media_type(content_type) or JSON
    if kind == PROTOBUF:
        return Decoded(decode_object(raw), [])
    if kind not in BODY_TYPES:
        raise unsupported_media_type(", ".join(BODY_TYPES))
    text = raw.decode("utf-8", errors="replace")
    if kind in (YAML, "application/apply-patch+yaml"):
        loader = _DupLoader(text)
        loader.yaml_duplicates = []
        try:
            obj = loader.get_single_data()
        except yaml.YAMLError as exc:
            raise bad_request(f"error converting YAML to JSON: {exc}") from exc
        finally:
            loader.dispose()
        return Decoded(obj, loader.yaml_duplicates)
    try:
        return Decoded(json.loads(text, object_pairs_hook=_pairs), [])
    except json.JSONDecodeError as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc.msg} at offset {exc.pos}") from exc


@dataclass(frozen=True)
class Accept:
    media: str  # JSON or YAML
    as_kind: str = ""  # "", "Table", "PartialObjectMetadata", "PartialObjectMetadataList"


def negotiate(header: str | None) -> Accept:
    """Pick the first acceptable Accept entry; 406 when none is."""
    if not header:
        return Accept(JSON)
    for entry in header.split(","):
        parts = [p.strip() for p in entry.split(";")]
        mime = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        as_kind = params.get("as", "")
        if as_kind:
            if mime != JSON or params.get("g") != "meta.k8s.io" or params.get("v") != "v1":
                continue
            if as_kind not in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
                continue
            return Accept(JSON, as_kind)
        if mime in (JSON, "application/*", "*/*", "application/json-patch+json"):
            return Accept(JSON)
        if mime == YAML:
            return Accept(YAML)
    raise not_acceptable(ACCEPTED)


def encode(obj: Any, accept: Accept) -> tuple[bytes, str]:
    if accept.media == YAML:
        return yaml.safe_dump(obj, sort_keys=False).encode(), YAML
    return json.dumps(obj, separators=(",", ":")).encode(), JSON
