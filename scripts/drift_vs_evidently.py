"""Compare mlmon's PSI (read from Prometheus by the drift drill) with Evidently's data-drift preset.

Evidently is a batch tool and not a dependency of mlmon: run this script in a virtual environment of its
own (Evidently 0.7.23 needs pandas older than 3)::

    python3.11 -m venv /tmp/evidently && /tmp/evidently/bin/pip install evidently==0.7.23 'pandas<3'
    /tmp/evidently/bin/python scripts/drift_vs_evidently.py build/drift/psi.json

The JSON is what the drift drill (tests/observability/test_drift_drill.py) wrote: the sample sizes and
seed it sent and, per sample, the PSI per feature Prometheus computed. The script draws the same houses
again (tests/observability/drift_traffic.py), takes the training split of the model the drill served
as Evidently's reference, and prints one Markdown table: Evidently's default test per column (what
``DataDriftPreset()`` picks: normed Wasserstein distance for numbers, Jensen-Shannon distance for
categories, drift at 0.1), Evidently's PSI (``DataDriftPreset(method="psi")``, equal-width Sturges bins
over both samples, drift at 0.1), and mlmon's PSI (the training deciles, drift alert at 0.2).
"""

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "app"), str(REPO)]

import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402
from house_price import data  # noqa: E402
from house_price.features import CATEGORIES, FEATURES, NUMERIC_FEATURES  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from tests.observability.drift_traffic import in_distribution, shifted  # noqa: E402

SAMPLES = {"in_distribution": in_distribution, "shifted": shifted}


def frame(rows: object) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(FEATURES))
    return table.astype({name: float for name in NUMERIC_FEATURES})


Values = dict[str, tuple[str, float]]


def evidently_values(reference: pd.DataFrame, current: pd.DataFrame, method: str | None) -> Values:
    definition = DataDefinition(numerical_columns=list(NUMERIC_FEATURES), categorical_columns=list(CATEGORIES))
    snapshot = Report([DataDriftPreset(method=method)]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    values = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            values[config["column"]] = (config["method"], float(metric["value"]))
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("psi", type=Path, help="the drill's JSON (build/drift/psi.json)")
    args = parser.parse_args()
    drill = json.loads(args.psi.read_text())
    dataset = data.generate(drill["model_seed"], drill["model_rows"])
    x_train, _, _, _ = train_test_split(
        dataset.features, dataset.prices, test_size=drill["held_out_fraction"], random_state=drill["model_seed"]
    )
    reference = frame(x_train)
    print(
        "| sample | feature | Evidently default test | value | drift? | Evidently PSI | drift? | mlmon PSI | alert? |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for sample, draw in SAMPLES.items():
        current = frame(draw(drill["houses"], drill["seed"]))
        default = evidently_values(reference, current, None)
        psi = evidently_values(reference, current, "psi")
        for feature in FEATURES:
            method, value = default[feature]
            ours = drill["psi"][sample][feature]
            print(
                f"| {sample} | {feature} | {method} | {value:.3f} | {'yes' if value >= 0.1 else 'no'} "
                f"| {psi[feature][1]:.3f} | {'yes' if psi[feature][1] >= 0.1 else 'no'} "
                f"| {ours:.3f} | {'yes' if ours > 0.2 else 'no'} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
