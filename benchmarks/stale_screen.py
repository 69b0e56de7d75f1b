"""Screen stale-tier variants cheaply (issue 12, frozen regime): fit only the stale tier as
the protocol does (`fit_with_threshold` with `stale_level`: out-of-fold rows with whole months
held out, calibration and threshold aimed at a level, then the refit) on a backtest's training
part and score its test part (a) frozen, on the days more than 7 after the training part's end
(the rows the stale tier answers), and (b) fed 7 days late (every row).

Usage: python benchmarks/stale_screen.py FEATURE_SET[,...] [LAST_MONTHS] [LEVEL_DAYS]
LEVEL_DAYS: aim at the delay rate of the training part's last LEVEL_DAYS days (default 28, as
the protocol: `training.STALE_LEVEL_DAYS`; 0: the whole part's rate). One JSON line per (period,
set): ROC-AUC / F1 / ECE / Brier / mean probability / flagged share per regime. Not the
protocol's figures (benchmarks/backtests.py); before the tenth pass this screen used random
folds and kept the fitted labels; the eighth pass's lagged-rate variants ran at commit 752f3fe.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

import latam_airlines.models.training as training
from latam_airlines.datasets import SCL_FEATURES
from latam_airlines.features.transformers import FlightFeatures
from latam_airlines.models import TrainConfig
from latam_airlines.models.calibration import calibrate
from latam_airlines.models.metrics import classification_metrics
from latam_airlines.models.pipelines import record_schedule
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training_data import training_data


def backtest_parts(periods: tuple[int, ...]) -> Iterator[tuple[int, TrainConfig, tuple, tuple]]:
    """Per backtest (table cut after month `last`, its last 2 months the test part): the
    protocol's config, (training inputs, labels) and (test inputs, labels)."""
    data = pd.read_csv(SCL_FEATURES)
    for last in periods:
        part = data[data["MES"] <= last].reset_index(drop=True)
        config = TrainConfig(model="logreg", features="full", seed=42)
        inputs, y = training_data(part, config.year)
        train_rows, test_rows = holdout_split(part, "temporal", [], 0.2, 42, last_months=2)
        yield last, config, (inputs.iloc[train_rows], y[train_rows]), (inputs.iloc[test_rows], y[test_rows])


def main(variants: list[str], periods: tuple[int, ...], level_days: int) -> None:
    for last, config, (train, y_train), (test, y_test) in backtest_parts(periods):
        for variant in variants:
            started = time.perf_counter()
            rate = target = float(y_train.mean())
            if level_days:
                training.STALE_LEVEL_DAYS = level_days
                target = training.recent_rate(train, y_train, config.year)
            pipeline, threshold, knots, _ = training.fit_with_threshold(
                train, y_train, config, variant, stale_level=(rate, target)
            )
            record_schedule(pipeline, test)  # published ahead, as the holdout does
            dates = FlightFeatures(year=2017)
            stale = dates.flight_days(test) - dates.flight_days(train).max() > 7
            probability = calibrate(pipeline.predict_proba(test)[:, 1], knots)  # no recent rates
            row = {}
            for name, rows in (("frozen_stale_days", stale), ("late_7", np.ones(len(test), bool))):
                m = classification_metrics(y_test[rows], probability[rows], threshold)
                row[name] = [round(m[k], 4) for k in ("roc_auc", "f1_delayed", "ece", "brier")]
                row[name].append(round(float(np.mean(probability[rows])), 3))
                row[name].append(round(float(np.mean(probability[rows] >= threshold)), 3))
            row["seconds"] = round(time.perf_counter() - started, 1)
            print(last, variant, level_days, json.dumps(row), flush=True)


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        tuple(int(m) for m in sys.argv[2].split(",")) if len(sys.argv) > 2 else (8, 10),
        int(sys.argv[3]) if len(sys.argv) > 3 else training.STALE_LEVEL_DAYS,
    )
