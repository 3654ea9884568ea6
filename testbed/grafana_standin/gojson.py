"""JSON text exactly as Grafana's Go encoder writes it.

Three habits of Go's ``encoding/json`` show up in every Grafana response and make a
byte-compare with what a client posted fail:

* a ``map`` (Grafana's ``simplejson`` dashboard model, ``util.DynMap`` error bodies) is
  written with its keys sorted, while a ``struct`` keeps its field order;
* ``<``, ``>`` and ``&`` inside strings come out as ``\\u003c``, ``\\u003e``, ``\\u0026``;
* numbers are float64: ``1.0`` is written ``1`` and ``1e-7`` is written ``1e-7``.

Callers build "struct" parts as ordinary dicts (insertion order kept) and pass "map"
parts through :func:`go_map`, which sorts keys recursively.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_map(value: object) -> object:
    """Return a copy of ``value`` whose dict keys are sorted at every depth."""
    if isinstance(value, Mapping):
        return sorted_map(value)
    if isinstance(value, list):
        return [go_map(item) for item in value]
    return value


def sorted_map(mapping: Mapping[str, object]) -> dict[str, object]:
    """A Go ``map[string]...``: keys sorted, here and in every nested map."""
    return {key: go_map(mapping[key]) for key in sorted(mapping)}


def dumps(value: object, indent: int | None = None) -> str:
    """Encode ``value`` as Go's ``json.Marshal`` (or ``MarshalIndent``) would."""
    return _encode(value, indent, 0)


def _encode(value: object, indent: int | None, depth: int) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        items = [f"{_string(str(key))}:{_space(indent)}{_encode(item, indent, depth + 1)}"
                 for key, item in value.items()]
        return _container("{", "}", items, indent, depth)
    if isinstance(value, Sequence):
        items = [_encode(item, indent, depth + 1) for item in value]
        return _container("[", "]", items, indent, depth)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _space(indent: int | None) -> str:
    return "" if indent is None else " "


def _container(opening: str, closing: str, items: list[str], indent: int | None,
               depth: int) -> str:
    if not items:
        return opening + closing
    if indent is None:
        return opening + ",".join(items) + closing
    inner = "\n" + " " * (indent * (depth + 1))
    outer = "\n" + " " * (indent * depth)
    return opening + inner + ("," + inner).join(items) + outer + closing


def _string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    for char, escape in _HTML_ESCAPES.items():
        encoded = encoded.replace(char, escape)
    return encoded


def _number(number: float) -> str:
    if not math.isfinite(number):
        raise ValueError("Go's encoder refuses NaN and Inf")
    magnitude = abs(number)
    if number.is_integer() and magnitude < 1e21:
        return "-0" if math.copysign(1.0, number) < 0 and number == 0 else str(int(number))
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, exponent = repr(number).split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    return format(Decimal(repr(number)), "f")
