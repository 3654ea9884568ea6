"""verify's warm-up houses are the script's output: drawn as the training data is (column: real)."""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import warmup_houses  # noqa: E402


def test_the_committed_houses_are_what_the_script_writes() -> None:
    assert warmup_houses.OUT.read_text() == warmup_houses.render(), "rerun: python scripts/warmup_houses.py"


def test_the_houses_are_valid_requests_for_the_service() -> None:
    from house_price.schemas import House

    houses = json.loads(warmup_houses.OUT.read_text())
    assert len(houses) == warmup_houses.ROWS
    for house in houses:
        House.model_validate(house)
