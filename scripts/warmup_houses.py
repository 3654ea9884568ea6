"""Write files/verify/warmup_houses.json: the houses verify's warm-up prices in one /batch-predict.

They are drawn as the training data is (``house_price.data.generate``, another seed), so the warm-up
gives the dashboard's drift panels enough houses to show a PSI (the rules need
``service_monitor_drift_min_observations``, 250 by default, in the window) without moving it: a
sample of the training distribution itself, not a spread of made-up values that would raise a drift
alert. tests/ansible/test_warmup_houses.py checks the file is what this script writes.

    python scripts/warmup_houses.py
"""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "app"))

from house_price import data  # noqa: E402

OUT = REPO / "files/verify/warmup_houses.json"
SEED = 20261206
ROWS = 300


def houses() -> list[dict[str, object]]:
    return data.houses(SEED, ROWS)


def render() -> str:
    lines = ",\n".join("  " + json.dumps(house) for house in houses())
    return "[\n" + lines + "\n]\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {ROWS} houses to {OUT.relative_to(REPO)}")
