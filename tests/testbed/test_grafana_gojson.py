"""Column: real (stand-in process). The Grafana stand-in's Go-style JSON encoder, without a process.

The HTTP tests show the effect on dashboards; these pin the number and string forms
Go's ``encoding/json`` writes, which are hard to reach through a dashboard.
"""

from __future__ import annotations

import pytest

from testbed.grafana_standin.gojson import dumps, sorted_map


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1"),
    (-0.0, "-0"),
    (0.5, "0.5"),
    (5e-05, "0.00005"),
    (1e-07, "1e-7"),
    (1.5e-07, "1.5e-7"),
    (1e21, "1e+21"),
    (123456789012345680.0, "123456789012345680"),
    (True, "true"),
    (None, "null"),
])
def test_scalars_as_go_writes_them(value: object, text: str) -> None:
    assert dumps(value) == text


def test_html_characters_are_escaped() -> None:
    assert dumps("a<b>&c\u2028") == '"a\\u003cb\\u003e\\u0026c\\u2028"'


def test_maps_are_sorted_at_every_depth_and_lists_keep_order() -> None:
    value = sorted_map({"b": [{"z": 1, "a": 2}], "a": {"y": 1, "x": 2}})
    assert dumps(value) == '{"a":{"x":2,"y":1},"b":[{"a":2,"z":1}]}'


def test_indent_matches_marshal_indent() -> None:
    assert dumps({"a": [], "b": {}, "c": [1]}, indent=2) == \
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    1\n  ]\n}'


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        dumps(float("nan"))
