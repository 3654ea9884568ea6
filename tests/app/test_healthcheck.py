"""The image's health check command (real: against a live uvicorn and a closed port)."""

import httpx
from house_price.healthcheck import main

from tests.app.appserver import free_port


def test_live_service_is_healthy(client: httpx.Client) -> None:
    assert main([str(client.base_url.join("/health"))]) == 0


def test_nothing_listening_is_unhealthy() -> None:
    assert main([f"http://127.0.0.1:{free_port()}/health"]) == 1


def test_not_found_is_unhealthy(client: httpx.Client) -> None:
    assert main([str(client.base_url.join("/no-such-probe"))]) == 1
