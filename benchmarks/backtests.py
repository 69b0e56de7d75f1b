"""Inner temporal backtests of feature sets: train Jan-Jun -> test Jul-Aug and train Jan-Aug ->
test Sep-Oct (the table cut after August / October, then the default temporal split on its
last 2 months), same protocol as `holdout_evaluation`. Choices are made on these, never on
Nov-Dec (reports/model_selection.md, fifth pass).

Usage: python benchmarks/backtests.py FEATURE_SET[,FEATURE_SET...] [MODEL] [LAST_MONTHS]
  e.g. python benchmarks/backtests.py full,intraday logreg 8,10
LAST_MONTHS 12 keeps the whole table: the Nov-Dec holdout itself, to be run once, after the
choices (reports/model_selection.md, sixth pass).
One JSON line per (period, feature set): ROC-AUC, PR-AUC, F1, ECE, Brier (and its base-rate
value), flagged share for the fed, frozen, 7-days-late and minimal (fed and frozen) regimes;
fit seconds.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd

import latam_airlines.models.training as training
from latam_airlines.datasets import SCL_FEATURES
from latam_airlines.models import TrainConfig

# The minimal tier frozen too: its 7-day windows slide back when unfed, so days beyond the
# stale switch go to minimal_stale (reports/model_selection.md, sixth and seventh passes).
REGIMES = (
    "holdout",
    "holdout_without_feed",
    "holdout_feed_7_days_late",
    "holdout_minimal_fields",
    "holdout_minimal_fields_without_feed",
)
FIGURES = ("roc_auc", "pr_auc", "f1_delayed", "ece", "brier", "brier_base_rate", "flagged_share")


def main(variants: list[str], model: str = "logreg", periods: tuple[int, ...] = (8, 10)) -> None:
    # Permutation importance is the artifact's evidence, not a figure of the backtest: skipped.
    training.holdout_evidence = lambda holdout, period="", n_jobs=1: {}
    data = pd.read_csv(SCL_FEATURES)
    for last in periods:
        part = data[data["MES"] <= last].reset_index(drop=True)
        for variant in variants:
            started = time.perf_counter()
            holdout = training.holdout_evaluation(part, TrainConfig(model=model, features=variant, seed=42))
            metrics = holdout.model.metrics
            row = {
                key: {name: round(metrics[key][name], 4) for name in FIGURES}
                for key in REGIMES
                if key in metrics
            }
            row["seconds"] = round(time.perf_counter() - started, 1)
            print(last, variant, model, json.dumps(row), flush=True)


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        sys.argv[2] if len(sys.argv) > 2 else "logreg",
        tuple(int(month) for month in sys.argv[3].split(",")) if len(sys.argv) > 3 else (8, 10),
    )
