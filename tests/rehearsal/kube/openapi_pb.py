"""The OpenAPI v2 document as gnostic's ``openapi.v2.Document`` protobuf message.

client-go's ``discovery.OpenAPISchema()`` (used by kubectl and helm 3 for client-side validation)
only accepts ``/openapi/v2`` as ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``.
No Python package ships gnostic's generated classes, so the message types are declared here at
runtime with ``google.protobuf.descriptor_pb2``, using the field names, numbers and types of
github.com/google/gnostic-models ``openapiv2/OpenAPIv2.proto`` (package ``openapi.v2``) for the
subset of messages the apiserver's document uses: Document, Info, Paths/PathItem/Operation,
parameters, responses, Definitions and Schema. Vendor extensions are ``NamedAny`` entries whose
``Any.yaml`` holds the YAML of the value, which is how gnostic stores them and how
kube-openapi's ``VendorExtensionToMap`` reads them back.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

F = descriptor_pb2.FieldDescriptorProto
STRING, BOOL, DOUBLE, INT64, MESSAGE = F.TYPE_STRING, F.TYPE_BOOL, F.TYPE_DOUBLE, F.TYPE_INT64, F.TYPE_MESSAGE
ONE, MANY = F.LABEL_OPTIONAL, F.LABEL_REPEATED

# message -> [(field name, number, type, label, message type or "", oneof index or None)]
FieldSpec = tuple[str, int, int, int, str, int | None]
_M = "."  # message field: the type name follows


def _f(name: str, number: int, kind: int | str, label: int = ONE, oneof: int | None = None) -> FieldSpec:
    if isinstance(kind, str):
        return (name, number, MESSAGE, label, kind, oneof)
    return (name, number, kind, label, "", oneof)


_PARAM_SUB = [
    _f("required", 1, BOOL),
    _f("in", 2, STRING),
    _f("description", 3, STRING),
    _f("name", 4, STRING),
]

MESSAGES: dict[str, tuple[list[FieldSpec], list[str]]] = {
    "Any": ([_f("yaml", 2, STRING)], []),
    "NamedAny": ([_f("name", 1, STRING), _f("value", 2, "Any")], []),
    "Info": ([_f("title", 1, STRING), _f("version", 2, STRING), _f("description", 3, STRING)], []),
    "JsonReference": ([_f("_ref", 1, STRING), _f("description", 2, STRING)], []),
    "TypeItem": ([_f("value", 1, STRING, MANY)], []),
    "ItemsItem": ([_f("schema", 1, "Schema", MANY)], []),
    "Properties": ([_f("additional_properties", 1, "NamedSchema", MANY)], []),
    "NamedSchema": ([_f("name", 1, STRING), _f("value", 2, "Schema")], []),
    "AdditionalPropertiesItem": ([_f("schema", 1, "Schema", ONE, 0), _f("boolean", 2, BOOL, ONE, 0)], ["oneof"]),
    "Schema": (
        [
            _f("_ref", 1, STRING),
            _f("format", 2, STRING),
            _f("title", 3, STRING),
            _f("description", 4, STRING),
            _f("default", 5, "Any"),
            _f("multiple_of", 6, DOUBLE),
            _f("maximum", 7, DOUBLE),
            _f("exclusive_maximum", 8, BOOL),
            _f("minimum", 9, DOUBLE),
            _f("exclusive_minimum", 10, BOOL),
            _f("max_length", 11, INT64),
            _f("min_length", 12, INT64),
            _f("pattern", 13, STRING),
            _f("max_items", 14, INT64),
            _f("min_items", 15, INT64),
            _f("unique_items", 16, BOOL),
            _f("max_properties", 17, INT64),
            _f("min_properties", 18, INT64),
            _f("required", 19, STRING, MANY),
            _f("enum", 20, "Any", MANY),
            _f("additional_properties", 21, "AdditionalPropertiesItem"),
            _f("type", 22, "TypeItem"),
            _f("items", 23, "ItemsItem"),
            _f("all_of", 24, "Schema", MANY),
            _f("properties", 25, "Properties"),
            _f("read_only", 27, BOOL),
            _f("example", 30, "Any"),
            _f("vendor_extension", 31, "NamedAny", MANY),
        ],
        [],
    ),
    "Definitions": ([_f("additional_properties", 1, "NamedSchema", MANY)], []),
    "BodyParameter": (
        [
            _f("description", 1, STRING),
            _f("name", 2, STRING),
            _f("in", 3, STRING),
            _f("required", 4, BOOL),
            _f("schema", 5, "Schema"),
        ],
        [],
    ),
    "QueryParameterSubSchema": ([*_PARAM_SUB, _f("type", 6, STRING), _f("unique_items", 20, BOOL)], []),
    "PathParameterSubSchema": ([*_PARAM_SUB, _f("type", 5, STRING), _f("unique_items", 19, BOOL)], []),
    "NonBodyParameter": (
        [
            _f("query_parameter_sub_schema", 3, "QueryParameterSubSchema", ONE, 0),
            _f("path_parameter_sub_schema", 4, "PathParameterSubSchema", ONE, 0),
        ],
        ["oneof"],
    ),
    "Parameter": (
        [_f("body_parameter", 1, "BodyParameter", ONE, 0), _f("non_body_parameter", 2, "NonBodyParameter", ONE, 0)],
        ["oneof"],
    ),
    "ParametersItem": (
        [_f("parameter", 1, "Parameter", ONE, 0), _f("json_reference", 2, "JsonReference", ONE, 0)],
        ["oneof"],
    ),
    "SchemaItem": ([_f("schema", 1, "Schema", ONE, 0)], ["oneof"]),
    "Response": ([_f("description", 1, STRING), _f("schema", 2, "SchemaItem")], []),
    "ResponseValue": (
        [_f("response", 1, "Response", ONE, 0), _f("json_reference", 2, "JsonReference", ONE, 0)],
        ["oneof"],
    ),
    "NamedResponseValue": ([_f("name", 1, STRING), _f("value", 2, "ResponseValue")], []),
    "Responses": (
        [_f("response_code", 1, "NamedResponseValue", MANY), _f("vendor_extension", 2, "NamedAny", MANY)],
        [],
    ),
    "Operation": (
        [
            _f("tags", 1, STRING, MANY),
            _f("summary", 2, STRING),
            _f("description", 3, STRING),
            _f("operation_id", 5, STRING),
            _f("produces", 6, STRING, MANY),
            _f("consumes", 7, STRING, MANY),
            _f("parameters", 8, "ParametersItem", MANY),
            _f("responses", 9, "Responses"),
            _f("schemes", 10, STRING, MANY),
            _f("deprecated", 11, BOOL),
            _f("vendor_extension", 13, "NamedAny", MANY),
        ],
        [],
    ),
    "PathItem": (
        [
            _f("_ref", 1, STRING),
            _f("get", 2, "Operation"),
            _f("put", 3, "Operation"),
            _f("post", 4, "Operation"),
            _f("delete", 5, "Operation"),
            _f("options", 6, "Operation"),
            _f("head", 7, "Operation"),
            _f("patch", 8, "Operation"),
            _f("parameters", 9, "ParametersItem", MANY),
            _f("vendor_extension", 10, "NamedAny", MANY),
        ],
        [],
    ),
    "NamedPathItem": ([_f("name", 1, STRING), _f("value", 2, "PathItem")], []),
    "Paths": ([_f("vendor_extension", 1, "NamedAny", MANY), _f("path", 2, "NamedPathItem", MANY)], []),
    "Document": (
        [
            _f("swagger", 1, STRING),
            _f("info", 2, "Info"),
            _f("host", 3, STRING),
            _f("base_path", 4, STRING),
            _f("schemes", 5, STRING, MANY),
            _f("consumes", 6, STRING, MANY),
            _f("produces", 7, STRING, MANY),
            _f("paths", 8, "Paths"),
            _f("definitions", 9, "Definitions"),
            _f("vendor_extension", 16, "NamedAny", MANY),
        ],
        [],
    ),
}


@cache
def message_classes() -> dict[str, type[Message]]:
    proto = descriptor_pb2.FileDescriptorProto(name="rehearsal/openapiv2.proto", package="openapi.v2", syntax="proto3")
    for name, (fields, oneofs) in MESSAGES.items():
        message = proto.message_type.add(name=name)
        for oneof in oneofs:
            message.oneof_decl.add(name=oneof)
        for fname, number, kind, label, type_name, oneof_index in fields:
            fld = message.field.add(name=fname, number=number, type=kind, label=label)
            if type_name:
                fld.type_name = f".openapi.v2.{type_name}"
            if oneof_index is not None:
                fld.oneof_index = oneof_index
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"openapi.v2.{name}")) for name in MESSAGES
    }


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True)


def _extensions(target: Any, source: dict[str, Any]) -> None:
    for key in sorted(source):
        if key.startswith("x-"):
            entry = target.vendor_extension.add(name=key)
            entry.value.yaml = _yaml(source[key])


def _schema(msg: Any, schema: dict[str, Any]) -> None:
    for key, attr in (
        ("$ref", "_ref"),
        ("format", "format"),
        ("title", "title"),
        ("description", "description"),
        ("pattern", "pattern"),
    ):
        if isinstance(schema.get(key), str):
            setattr(msg, attr, schema[key])
    for key, attr in (("maximum", "maximum"), ("minimum", "minimum"), ("multipleOf", "multiple_of")):
        if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool):
            setattr(msg, attr, float(schema[key]))
    for key, attr in (
        ("maxLength", "max_length"),
        ("minLength", "min_length"),
        ("maxItems", "max_items"),
        ("minItems", "min_items"),
        ("maxProperties", "max_properties"),
        ("minProperties", "min_properties"),
    ):
        if isinstance(schema.get(key), int):
            setattr(msg, attr, schema[key])
    for key, attr in (
        ("exclusiveMaximum", "exclusive_maximum"),
        ("exclusiveMinimum", "exclusive_minimum"),
        ("uniqueItems", "unique_items"),
        ("readOnly", "read_only"),
    ):
        if schema.get(key) is True:
            setattr(msg, attr, True)
    if "default" in schema:
        msg.default.yaml = _yaml(schema["default"])
    for value in schema.get("enum") or []:
        msg.enum.add(yaml=_yaml(value))
    msg.required.extend(str(r) for r in schema.get("required") or [])
    kind = schema.get("type")
    if kind:
        msg.type.value.extend(kind if isinstance(kind, list) else [kind])
    items = schema.get("items")
    if isinstance(items, dict):
        _schema(msg.items.schema.add(), items)
    for sub in schema.get("allOf") or []:
        _schema(msg.all_of.add(), sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _schema(msg.additional_properties.schema, extra)
    elif isinstance(extra, bool):
        msg.additional_properties.boolean = extra
    for name, sub in (schema.get("properties") or {}).items():
        named = msg.properties.additional_properties.add(name=name)
        _schema(named.value, sub)
    _extensions(msg, schema)


def _parameter(item: Any, param: dict[str, Any]) -> None:
    if "$ref" in param:
        item.json_reference._ref = param["$ref"]
        return
    if param.get("in") == "body":
        body = item.parameter.body_parameter
        body.name = param.get("name", "body")
        body.description = param.get("description", "")
        body.required = bool(param.get("required"))
        setattr(body, "in", "body")
        _schema(body.schema, param.get("schema") or {})
        return
    where = param.get("in")
    sub = (
        item.parameter.non_body_parameter.path_parameter_sub_schema
        if where == "path"
        else item.parameter.non_body_parameter.query_parameter_sub_schema
    )
    sub.name = param.get("name", "")
    setattr(sub, "in", where or "query")
    sub.description = param.get("description", "")
    sub.type = param.get("type", "string")
    sub.required = bool(param.get("required"))
    sub.unique_items = bool(param.get("uniqueItems"))


def _operation(msg: Any, op: dict[str, Any]) -> None:
    msg.tags.extend(op.get("tags") or [])
    msg.description = op.get("description", "")
    msg.operation_id = op.get("operationId", "")
    msg.consumes.extend(op.get("consumes") or [])
    msg.produces.extend(op.get("produces") or [])
    msg.schemes.extend(op.get("schemes") or [])
    for param in op.get("parameters") or []:
        _parameter(msg.parameters.add(), param)
    for code, response in (op.get("responses") or {}).items():
        named = msg.responses.response_code.add(name=str(code))
        named.value.response.description = response.get("description", "")
        if isinstance(response.get("schema"), dict):
            _schema(named.value.response.schema.schema, response["schema"])
    _extensions(msg, op)


def encode_document(doc: dict[str, Any]) -> bytes:
    classes = message_classes()
    msg = classes["Document"]()
    msg.swagger = doc.get("swagger", "2.0")
    msg.info.title = doc.get("info", {}).get("title", "")
    msg.info.version = doc.get("info", {}).get("version", "")
    for path, item in (doc.get("paths") or {}).items():
        named = msg.paths.path.add(name=path)
        for method in ("get", "put", "post", "delete", "patch"):
            if method in item:
                _operation(getattr(named.value, method), item[method])
        for param in item.get("parameters") or []:
            _parameter(named.value.parameters.add(), param)
    for name, schema in (doc.get("definitions") or {}).items():
        named = msg.definitions.additional_properties.add(name=name)
        _schema(named.value, schema)
    return msg.SerializeToString()
