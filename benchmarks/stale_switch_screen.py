"""Screen `stale_after_days` (issue 12, frozen regime): on a backtest's training part fit the full
tier and the stale tier (`fit_with_threshold`), score the test part with the history frozen at
the training part's end, and label each day by the tier a switch after 0-7 days would route it to
(days 1..s: the full tier, its slid-back recent rates; later: the stale tier), each at its own
threshold. The protocol's frozen row for s = 7 (benchmarks/backtests.py).

Usage: python benchmarks/stale_switch_screen.py [LAST_MONTHS] [STALE_SET]
"""

from __future__ import annotations

import json
import sys

import numpy as np
from stale_screen import backtest_parts  # benchmarks/, run as a script

from latam_airlines.features.transformers import FlightFeatures
from latam_airlines.models.calibration import calibrate
from latam_airlines.models.metrics import classification_metrics
from latam_airlines.models.training import fit_with_threshold

SWITCHES = (0, 1, 2, 3, 5, 7)


def main(periods: tuple[int, ...], stale_set: str) -> None:
    for last, config, (train, y_train), (test, y_test) in backtest_parts(periods):
        scored = {}
        for tier, feature_set in (("full", "full"), ("stale", stale_set)):
            pipeline, threshold, knots, _ = fit_with_threshold(train, y_train, config, feature_set)
            scored[tier] = (calibrate(pipeline.predict_proba(test)[:, 1], knots), threshold)
        dates = FlightFeatures(year=2017)
        gap = dates.flight_days(test) - dates.flight_days(train).max()
        for switch in SWITCHES:
            stale = gap > switch
            probability = np.where(stale, scored["stale"][0], scored["full"][0])
            threshold = np.where(stale, scored["stale"][1], scored["full"][1])
            m = classification_metrics(y_test, probability, threshold)
            row = [round(m[k], 4) for k in ("roc_auc", "f1_delayed", "ece", "brier")]
            first_week = gap <= 7
            w = classification_metrics(y_test[first_week], probability[first_week], threshold[first_week])
            row_week = [round(w[k], 4) for k in ("roc_auc", "f1_delayed", "ece", "brier")]
            print(
                last,
                stale_set,
                "switch",
                switch,
                json.dumps({"frozen": row, "first_week": row_week}),
                flush=True,
            )


if __name__ == "__main__":
    main(
        tuple(int(m) for m in sys.argv[1].split(",")) if len(sys.argv) > 1 else (8, 10),
        sys.argv[2] if len(sys.argv) > 2 else "static",
    )
