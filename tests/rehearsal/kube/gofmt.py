"""Go's renderings of decoded JSON values, for error messages worded as the real server words them.

``go_value(v)`` is ``fmt.Sprintf("%v", v)`` of a value ``encoding/json`` decoded into
``interface{}`` (``map[a:1 b:[x y]]``, ``<nil>``, ``true``); ``go_type(v)`` is
``reflect.TypeOf(v).String()`` (``map[string]interface {}``, ``[]interface {}``, ``int64``).
Integers are ``int64`` as k8s.io/apimachinery's JSON decoder produces them.
"""

from __future__ import annotations

from typing import Any


def go_float(number: float) -> str:
    """``%v`` of a float64: shortest representation, exponent form outside [1e-4, 1e21)."""
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').zfill(2)}"
    return text


def go_value(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, dict):
        items = " ".join(f"{key}:{go_value(value[key])}" for key in sorted(value))
        return f"map[{items}]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    return str(value)


def go_type(value: Any) -> str:
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"
