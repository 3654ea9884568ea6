"""GET requests to the Prometheus HTTP API, shared by the mlmon.monitoring modules that read Prometheus.

Every failure becomes a :class:`PrometheusError` whose message is what a user needs: Prometheus's own ``error``
for a query it refused (a bad expression, a range with too many points), else the HTTP status and the start of
the body, or why no answer came.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.urls import open_url


class PrometheusError(Exception):
    """A request Prometheus did not answer with data."""


def get(url: str, path: str, params: dict[str, str], validate_certs: bool, timeout: int = 30) -> dict[str, Any]:
    """Prometheus's JSON answer to ``GET <url><path>?<params>``."""
    try:
        with open_url(f"{url}{path}?{urlencode(params)}", validate_certs=validate_certs, timeout=timeout) as response:
            return dict(json.loads(response.read()))
    except HTTPError as error:
        body = error.read().decode(errors="replace")
        try:
            message = json.loads(body).get("error", body)
        except ValueError:
            message = f"HTTP {error.code}: {body[:200]}"
        raise PrometheusError(message) from error
    except (URLError, OSError, ValueError) as error:
        raise PrometheusError(str(error)) from error
