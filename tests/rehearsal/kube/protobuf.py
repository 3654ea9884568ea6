"""Request bodies in ``application/vnd.kubernetes.protobuf``.

client-go's typed clients write protobuf: helm 3's release Secrets and their DeleteOptions,
``kubectl create namespace|deployment|service|secret|configmap|serviceaccount|role...`` and
``kubectl run``. Such a body is the ``k8s\\x00`` magic followed by a ``runtime.Unknown`` envelope
(``typeMeta``, ``raw``) whose ``raw`` is the object in the Go-generated proto2 messages. The
message types are declared at runtime from the field numbers in proto_fields.py and decoded into
the JSON form the rest of the server handles, the way Go's JSON encoder would write the decoded
struct (empty values of ``omitempty`` fields left out, a few pointer fields kept at zero).

Strict, not lenient: a body this server cannot read completely — another kind, a field number it
does not know, or a non-empty message it does not model (e.g. a volume source) — is refused
with 415 UnsupportedMediaType instead of being stored with parts missing.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, unknown_fields
from google.protobuf.message import DecodeError, Message

from . import errors
from .proto_fields import FIELDS

MAGIC = b"k8s\x00"
F = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "string": F.TYPE_STRING,
    "bytes": F.TYPE_BYTES,
    "bool": F.TYPE_BOOL,
    "int64": F.TYPE_INT64,
    "int32": F.TYPE_INT32,
    "double": F.TYPE_DOUBLE,
    "float": F.TYPE_FLOAT,
    "opaque": F.TYPE_BYTES,
}
ROOTS = {
    ("v1", "Namespace"): "core.Namespace",
    ("v1", "ConfigMap"): "core.ConfigMap",
    ("v1", "Secret"): "core.Secret",
    ("v1", "ServiceAccount"): "core.ServiceAccount",
    ("v1", "Service"): "core.Service",
    ("v1", "Pod"): "core.Pod",
    ("apps/v1", "Deployment"): "apps.Deployment",
    ("rbac.authorization.k8s.io/v1", "Role"): "rbac.Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac.RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac.ClusterRoleBinding",
    ("policy/v1", "PodDisruptionBudget"): "policy.PodDisruptionBudget",
    ("networking.k8s.io/v1", "Ingress"): "networking.Ingress",
    ("v1", "DeleteOptions"): "meta.DeleteOptions",
    ("meta.k8s.io/v1", "DeleteOptions"): "meta.DeleteOptions",
}
# Embedded Go structs: a message field in protobuf, flattened into the parent in JSON.
INLINE = {"ingressRuleValue", "handler"}
# Go pointer fields whose zero value is meaningful and so written to JSON.
KEEP_ZERO = {
    "replicas",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "automountServiceAccountToken",
    "immutable",
    "enableServiceLinks",
    "allocateLoadBalancerNodePorts",
    "gracePeriodSeconds",
    "orphanDependents",
    "partition",
}


def _proto_name(name: str) -> str:
    return name.replace(".", "_")


@cache
def _classes() -> dict[str, type[Message]]:
    proto = descriptor_pb2.FileDescriptorProto(name="rehearsal/k8s.proto", package="k8s", syntax="proto2")
    for name, fields in FIELDS.items():
        message = proto.message_type.add(name=_proto_name(name))
        for fname, number, kind, repeated in fields:
            fld = message.field.add(name=fname, json_name=fname, number=number)
            fld.label = F.LABEL_REPEATED if repeated or kind.startswith("map:") else F.LABEL_OPTIONAL
            if kind.startswith("map:"):
                entry = message.nested_type.add(name=f"{fname[0].upper()}{fname[1:]}Entry")
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
                value = entry.field.add(name="value", number=2, label=F.LABEL_OPTIONAL)
                _set_type(value, kind[4:])
                fld.type = F.TYPE_MESSAGE
                fld.type_name = f".k8s.{message.name}.{entry.name}"
            else:
                _set_type(fld, kind)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"k8s.{_proto_name(name)}")) for name in FIELDS
    }


def _set_type(fld: Any, kind: str) -> None:
    if kind in SCALARS:
        fld.type = SCALARS[kind]
    else:
        fld.type = F.TYPE_MESSAGE
        fld.type_name = f".k8s.{_proto_name(kind)}"


class _Unreadable(Exception):
    """The body holds something this server does not model."""


def _time(msg: Any) -> str | None:
    if not msg.seconds and not msg.nanos:
        return None
    return datetime.fromtimestamp(msg.seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _special(kind: str, msg: Any) -> tuple[bool, Any]:
    if kind == "meta.Time":
        return True, _time(msg)
    if kind == "intstr.IntOrString":
        return True, msg.strVal if msg.type == 1 else msg.intVal
    if kind == "resource.Quantity":
        return True, msg.string
    if kind in ("runtime.RawExtension", "meta.FieldsV1"):
        raw = msg.raw if kind == "runtime.RawExtension" else msg.Raw
        return True, json.loads(raw) if raw else None
    return False, None


@cache
def _empty_message() -> type[Message]:
    proto = descriptor_pb2.FileDescriptorProto(name="rehearsal/empty.proto", package="rehearsal", syntax="proto2")
    proto.message_type.add(name="Empty")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("rehearsal.Empty"))


def _blank(data: bytes) -> bool:
    """Whether an encoded message holds nothing but zero values (Go writes empty structs out)."""
    try:
        fields = unknown_fields.UnknownFieldSet(_empty_message().FromString(data))
    except DecodeError:
        return False
    for field in fields:
        value = field.data
        if isinstance(value, bytes):
            if value and not _blank(value):
                return False
        elif value:
            return False
    return True


def _value(kind: str, value: Any) -> Any:
    if kind == "opaque":
        if value and not _blank(value):
            raise _Unreadable("a nested message this server does not model")
        return None
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind in SCALARS:
        return value
    return _to_json(kind, value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False or value == 0


def _to_json(kind: str, msg: Any) -> Any:
    if len(unknown_fields.UnknownFieldSet(msg)):
        raise _Unreadable(f"unknown fields in {kind}")
    special, value = _special(kind, msg)
    if special:
        return value
    out: dict[str, Any] = {}
    for fname, _number, fkind, repeated in FIELDS[kind]:
        if fkind.startswith("map:"):
            entries = {k: _value(fkind[4:], v) for k, v in getattr(msg, fname).items()}
            if entries:
                out[fname] = entries
            continue
        if repeated:
            items = [_value(fkind, v) for v in getattr(msg, fname)]
            if items:
                out[fname] = items
            continue
        if not msg.HasField(fname):
            continue
        converted = _value(fkind, getattr(msg, fname))
        if fkind in SCALARS and _empty(converted) and not (fname in KEEP_ZERO and converted is not None):
            continue
        if fname in INLINE and isinstance(converted, dict):
            out.update(converted)
        elif converted is not None:
            out[fname] = converted
    return out


def decode_object(raw: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf request body; 400 if malformed, 415 if not fully readable."""
    if not raw.startswith(MAGIC):
        raise errors.bad_request(
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
        )
    classes = _classes()
    try:
        envelope = classes["runtime.Unknown"].FromString(raw[len(MAGIC) :])
        api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
        root = ROOTS.get((api_version, kind))
        if root is None:
            raise _Unreadable(f"{api_version} {kind}")
        body = _to_json(root, classes[root].FromString(envelope.raw))
    except DecodeError as exc:
        raise errors.bad_request(f"unable to decode protobuf body: {exc}") from exc
    except _Unreadable as exc:
        raise errors.unsupported_media_type("application/json, application/yaml") from exc
    body.pop("status", None)
    return {"apiVersion": api_version, "kind": kind, **body}
