"""Request bodies parsed by orjson (``house_price.jsonbody``), FastAPI's parsing kept as the fallback (real)."""

import json

import httpx
import orjson
import pytest

from tests.app.conftest import VALID_HOUSE

# What both parsers accept: they must read each the same.
BOTH_ACCEPT = [
    b'{"sqft": 1800, "bathrooms": 2.5, "year_built": 1995.0, "location": "suburban"}',
    b'{"a": 0.1, "b": 1e-7, "c": 123456789.123456789, "d": -0.0, "e": 1E+3, "f": 9223372036854775807}',
    b'{"a": -9223372036854775808, "b": 18446744073709551615, "c": 2.2250738585072014e-308}',
    b'{"a": "caf\\u00e9", "b": "\\ud83d\\ude00", "c": "tab\\tnew\\nline", "d": "\xc3\xa9"}',
    b'{"a": 1, "a": 2}',
    b' [ {"houses": [{}, [], null, true, false]} ] ',
    b'"house"',
    b"null",
]
# What orjson refuses and json.loads reads (or refuses alike): left to json.loads.
ORJSON_REFUSES = [
    b'{"sqft": NaN}',
    b'{"sqft": Infinity}',
    b'{"a": "\\ud800"}',
    '{"sqft": 1800}'.encode("utf-16"),
    b"{not json",
]


@pytest.mark.parametrize("body", BOTH_ACCEPT)
def test_what_both_parse_they_parse_alike(body: bytes) -> None:
    assert orjson.loads(body) == json.loads(body)
    assert repr(orjson.loads(body)) == repr(json.loads(body))  # ints stay ints, floats floats


@pytest.mark.parametrize("body", ORJSON_REFUSES)
def test_what_orjson_refuses_is_left_to_fastapi(body: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)


def test_the_predict_routes_read_the_body_orjson_parsed(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the standard library's parser out of order, valid bodies are still priced."""

    def broken(*_: object, **__: object) -> object:
        raise AssertionError("json.loads was called")

    single = json.dumps(VALID_HOUSE).encode()
    batch = json.dumps({"houses": [VALID_HOUSE] * 3}).encode()
    headers = {"content-type": "application/json"}
    with monkeypatch.context() as patched:
        patched.setattr(json, "loads", broken)
        answers = [
            client.post("/predict", content=single, headers=headers),
            client.post("/batch-predict", content=batch, headers=headers),
        ]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert len(answers[1].json()["predictions"]) == 3


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", {"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error"}),
        (b'{"sqft": NaN}', {"type": "finite_number", "loc": ["body", "sqft"]}),
        # orjson reads an integer beyond 64 bits as a float: no field takes one so large, so it is refused
        # and named as before; only the input the answer echoes is that float.
        (b'{"sqft": 123456789012345678901234567890}', {"type": "less_than_equal", "loc": ["body", "sqft"]}),
        (b'{"bedrooms": -123456789012345678901234567890}', {"type": "greater_than_equal", "loc": ["body", "bedrooms"]}),
    ],
)
def test_bodies_orjson_refuses_get_fastapis_own_answers(client: httpx.Client, body: bytes, error: dict) -> None:
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    found = [detail for detail in response.json()["detail"] if detail["loc"] == error["loc"]]
    assert found, response.json()
    assert {key: found[0][key] for key in error} == error
