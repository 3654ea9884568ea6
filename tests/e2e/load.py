"""A client loop on the model's /predict through its NodePort, counting every answer that is not 200.

Column: real (an HTTP client; used by the kind tests of rollouts).
"""

from __future__ import annotations

import threading
import time

import httpx

HOUSE = {"sqft": 1650, "bedrooms": 3, "bathrooms": 2, "location": "suburban", "year_built": 1998, "condition": "Good"}


class PredictLoad:
    """A bounded client loop hitting /predict through the NodePort; counts answers that are not 200."""

    def __init__(self, url: str, max_seconds: float = 300.0, *, new_connections: bool = False) -> None:
        """``new_connections``: one connection per request (``Connection: close``), so kube-proxy spreads the
        requests over the pods as it spreads connections: what a canary needs to see its share."""
        self.url = url
        self.max_seconds = max_seconds
        self.headers = {"Connection": "close"} if new_connections else {}
        self.ok = 0
        self.failures: list[str] = []
        self.versions: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=10, headers=self.headers) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    answer = client.post(self.url + "/predict", json=HOUSE)
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")
                    continue
                if answer.status_code == 200:
                    self.ok += 1
                    self.versions.add(answer.json()["model_version"])
                else:
                    self.failures.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                time.sleep(0.02)

    def wait_for_version(self, version: str, timeout: float = 60.0) -> None:
        """Keep the load running until an answer comes from ``version`` (bounded).

        The load reuses one keep-alive connection, as real clients do, and kube-proxy balances
        connections, not requests: the switch shows once the old pod closes it, after its preStop wait.
        """
        deadline = time.monotonic() + timeout
        while version not in self.versions and time.monotonic() < deadline:
            time.sleep(0.2)

    def __enter__(self) -> PredictLoad:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
