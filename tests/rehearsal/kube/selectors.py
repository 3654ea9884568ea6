"""Label and field selectors: the query-string syntax and metav1.LabelSelector objects.

Grammar and error wording follow k8s.io/apimachinery/pkg/labels and pkg/fields:
``a=b,c!=d,e in (x,y),f notin (z),g,!h`` for labels; ``metadata.name=x,status.phase!=Running``
for fields. A field selector on a field the kind does not index is a 400 BadRequest
``field label not supported: <field>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request

Labels = Mapping[str, str]
LabelMatcher = Callable[[Labels], bool]


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Labels) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or value is None:
            return False
        try:
            have, want = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == "gt" else have < want


_TOKEN = re.compile(r"\s*(!=|==|=|>|<|!|\(|\)|,|[^\s!=<>(),]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise bad_request(f"unable to parse requirement: unexpected character in {text!r}")
        out.append(match.group(1))
        pos = match.end()
    return out


_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _check_value(value: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: values[0][key]: Invalid value: "{value}": a valid label '
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character"
        )


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse ``?labelSelector=``; raises 400 BadRequest on a syntax error."""
    tokens = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def take() -> str:
        nonlocal i
        if i >= len(tokens):
            raise bad_request(f"unable to parse requirement: found '', expected: identifier in {text!r}")
        tok = tokens[i]
        i += 1
        return tok

    while i < len(tokens):
        tok = take()
        if tok == "!":
            reqs.append(Requirement(take(), "!"))
        else:
            key = tok
            op = tokens[i] if i < len(tokens) else ","
            if op == ",":
                reqs.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!="):
                i += 1
                value = ""
                if i < len(tokens) and tokens[i] != ",":
                    value = take()
                _check_value(value)
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
            elif op in (">", "<"):
                i += 1
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", (take(),)))
            elif op in ("in", "notin"):
                i += 1
                if take() != "(":
                    raise bad_request(f"unable to parse requirement: expected '(' in {text!r}")
                values: list[str] = []
                while True:
                    tok = take()
                    if tok == ")":
                        break
                    if tok == ",":
                        continue
                    _check_value(tok)
                    values.append(tok)
                reqs.append(Requirement(key, op, tuple(values)))
            else:
                raise bad_request(
                    f"unable to parse requirement: found '{op}', expected: 'in', 'notin', '=', '==', '!=', 'gt', 'lt'"
                )
        if i < len(tokens):
            if tokens[i] != ",":
                raise bad_request(f"unable to parse requirement: found '{tokens[i]}', expected: ','")
            i += 1
    return reqs


def label_matcher(text: str | None) -> LabelMatcher:
    if not text:
        return lambda _labels: True
    reqs = parse_label_selector(text)
    return lambda labels: all(r.matches(labels) for r in reqs)


def selector_object_matcher(selector: Mapping[str, Any] | None) -> LabelMatcher:
    """Matcher for a metav1.LabelSelector; an empty selector matches everything."""
    if not selector:
        return lambda _labels: True
    reqs = [Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            return lambda _labels: False
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return lambda labels: all(r.matches(labels) for r in reqs)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negate: bool


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: str | None, supported: tuple[str, ...]) -> list[FieldRequirement]:
    if not text:
        return []
    out: list[FieldRequirement] = []
    for part in _split_unescaped(text, ","):
        if not part:
            continue
        match = re.match(r"^((?:[^=!\\]|\\.)*)(!=|==|=)(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = match.groups()
        if name not in supported:
            raise ApiError(400, "BadRequest", f"field label not supported: {name}")
        out.append(FieldRequirement(name, _unescape(value), op == "!="))
    return out


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string a field selector compares: nested keys joined by dots; bools as true/false."""
    if path == "status.podIPs":
        ips = (obj.get("status") or {}).get("podIPs") or []
        return ",".join(ip.get("ip", "") for ip in ips)
    if path == "source":
        return (obj.get("source") or {}).get("component", "")
    node: Any = obj
    for key in path.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    if node is None:
        if path == "metadata.namespace":
            return ""
        return "false" if path in ("spec.hostNetwork", "spec.unschedulable") else ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_matcher(reqs: list[FieldRequirement]) -> Callable[[Mapping[str, Any]], bool]:
    def matches(obj: Mapping[str, Any]) -> bool:
        for req in reqs:
            have = field_value(obj, req.field)
            if (have == req.value) == req.negate:
                return False
        return True

    return matches
