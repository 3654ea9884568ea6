"""resource.Quantity parsing and the canonical string the apiserver stores.

Rules of k8s.io/apimachinery/pkg/api/resource: the suffix decides the format (binary ``Ki``..``Ei``,
decimal ``n``..``E`` or an ``e<exp>`` exponent); values are rounded up to nano units; decimal
output uses the largest multiple-of-3 exponent that keeps an integer mantissa (``2000`` -> ``2k``,
``0.5`` -> ``500m``); binary output is kept only for whole values of at least 1024
(``1.5Gi`` -> ``1536Mi``), otherwise the value is written as decimal.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {0: "", **{v: k for k, v in _BINARY.items()}}


def parse_quantity(text: str) -> tuple[Fraction, str] | None:
    """(value, format) with format one of "BinarySI", "DecimalSI", "DecimalExponent"."""
    match = QUANTITY_RE.match(text.strip())
    if not match:
        return None
    number, suffix = match.groups()
    if number.count(".") > 1 or number.strip("+-") in ("", "."):
        return None
    try:
        value = Fraction(number)
    except ValueError:
        return None
    if suffix in _BINARY:
        return value * (2 ** _BINARY[suffix]), "BinarySI"
    if suffix in _DECIMAL:
        return value * Fraction(10) ** _DECIMAL[suffix], "DecimalSI"
    exp = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exp:
        return value * Fraction(10) ** int(exp.group(1)), "DecimalExponent"
    return None


def _format(value: Fraction, fmt: str) -> str:
    nanos = math.ceil(value * 10**9)
    if fmt == "BinarySI" and abs(value) >= 1024 and value.denominator == 1:
        mantissa, exp = int(value), 0
        while mantissa and mantissa % 1024 == 0 and exp < 60:
            mantissa //= 1024
            exp += 10
        return f"{mantissa}{_BINARY_SUFFIX[exp]}"
    if nanos == 0:
        return "0"
    mantissa, exp = nanos, -9
    while mantissa % 1000 == 0:
        mantissa //= 1000
        exp += 3
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exp}" if exp else str(mantissa)
    if exp > 18:
        return f"{mantissa * 10 ** (exp - 18)}E"
    return f"{mantissa}{_DECIMAL_SUFFIX[exp]}"


def canonical_quantity(value: str | int | float) -> str | None:
    """The canonical form of a quantity given as a string or a JSON number; None if invalid."""
    text = repr(value) if isinstance(value, float) else str(value)
    parsed = parse_quantity(text)
    if parsed is None:
        return None
    return _format(*parsed)


def quantity_value(text: str) -> Fraction | None:
    parsed = parse_quantity(text)
    return parsed[0] if parsed else None
