"""A bounded, mixed load on the house-price service: what a dashboard needs to show something.

Every round sends valid and invalid /predict calls, malformed JSON, batches of several sizes
(one at the cap, one over it, one empty) and requests for paths that do not exist.
"""

import time
from dataclasses import dataclass

import httpx

LOCATIONS = ("urban", "suburban", "rural", "waterfront", "mountain")
CONDITIONS = ("Poor", "Fair", "Good", "Excellent")


def house(index: int) -> dict[str, object]:
    """A valid house; the index spreads size, place and condition, hence prices."""
    return {
        "sqft": 600 + (index * 397) % 5_000,
        "bedrooms": 1 + index % 5,
        "bathrooms": 1 + (index % 4) / 2,
        "location": LOCATIONS[index % len(LOCATIONS)],
        "year_built": 1900 + (index * 7) % 120,
        "condition": CONDITIONS[index % len(CONDITIONS)],
    }


INVALID_HOUSES: tuple[dict[str, object], ...] = (
    {**house(0), "sqft": -10},
    {**house(1), "location": "moon"},
    {**house(2), "year_built": 3000},
    {**house(3), "condition": "Mint"},
    {**house(4), "garage": 2},
    {key: value for key, value in house(5).items() if key != "bedrooms"},
)


@dataclass
class LoadReport:
    """Answers counted by status code."""

    statuses: dict[int, int]

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


def drive(base_url: str, max_batch_size: int, rounds: int = 8, pause: float = 1.0) -> LoadReport:
    """Send ``rounds`` rounds of mixed traffic, ``pause`` seconds apart (bounded in count and time)."""
    statuses: dict[int, int] = {}

    def record(response: httpx.Response) -> None:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    with httpx.Client(base_url=base_url, timeout=30) as client:
        for round_number in range(rounds):
            for index in range(10):
                record(client.post("/predict", json=house(round_number * 10 + index)))
            for invalid in INVALID_HOUSES:
                record(client.post("/predict", json=invalid))
            record(client.post("/predict", content=b"{not json", headers={"content-type": "application/json"}))
            for size in (1, 10, 100):
                record(client.post("/batch-predict", json={"houses": [house(i) for i in range(size)]}))
            if round_number % 2 == 0:
                full = [house(i) for i in range(max_batch_size)]
                record(client.post("/batch-predict", json={"houses": full}))
            record(client.post("/batch-predict", json={"houses": [house(0)] * (max_batch_size + 1)}))
            record(client.post("/batch-predict", json={"houses": []}))
            record(client.get("/no-such-page"))
            record(client.post("/predict/extra/path", json=house(1)))
            time.sleep(pause)
    return LoadReport(statuses)
