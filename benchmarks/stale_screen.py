"""Screen stale-tier variants cheaply (issue 12, frozen regime): fit only the stale tier
(`fit_with_threshold`: out-of-fold calibration and threshold, then the refit) on a backtest's
training part and score its test part (a) frozen, on the days more than 7 after the training
part's end (the rows the stale tier answers), and (b) fed 7 days late (every row).

Usage: python benchmarks/stale_screen.py VARIANT[,VARIANT...] [LAST_MONTHS]
Variants: feature sets, or the ones registered below. One JSON line per (period, variant):
ROC-AUC / F1 / ECE / Brier per regime. Not the protocol's figures (benchmarks/backtests.py).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pandas as pd

import latam_airlines.features.transformers as transformers
from latam_airlines.datasets import SCL_FEATURES
from latam_airlines.features.feature_sets import FEATURE_SETS
from latam_airlines.models import TrainConfig
from latam_airlines.models.calibration import calibrate
from latam_airlines.models.metrics import classification_metrics
from latam_airlines.models.pipelines import outcome_history_step
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training import fit_with_threshold
from latam_airlines.models.training_data import training_data

STATIC = FEATURE_SETS["static"]
SHORT = [((), 28), (("OPERA",), 28), (("Des_I",), 56), (("OPERA", "Des_I"), 56)]
LONG = [((), 56), ((), 90), (("OPERA",), 90), (("Des_I",), 90), (("OPERA", "Des_I"), 90)]
VARIANTS = {  # name -> (lagged windows, age range, age terms)
    "lag_small": (SHORT, (8, 60), True),
    "lag_long": (LONG, (8, 60), True),
    "lag_noage": (FEATURE_SETS["static_lagged"]["lagged"], (8, 60), False),
    "lag_8_30": (FEATURE_SETS["static_lagged"]["lagged"], (8, 30), True),
    "lag_8_90": (FEATURE_SETS["static_lagged"]["lagged"], (8, 90), True),
    "lag_2_60": (FEATURE_SETS["static_lagged"]["lagged"], (2, 60), True),
    "scl_only": ([((), 28), ((), 56)], (8, 60), False),
    "scl_age": ([((), 28), ((), 56)], (8, 60), True),
    "scl_90": ([((), 90)], (8, 60), False),
}
DEFAULT = FEATURE_SETS["static_lagged"]["lagged"]
LONG_REL = [
    ((), 90),
    (("OPERA",), 90),
    (("Des_I",), 90),
    (("OPERA", "Des_I"), 90),
    (("OPERA", "Des_I", "HORA", "MIN"), 90),
]
MID_REL = [
    ((), 56),
    (("OPERA",), 56),
    (("Des_I",), 56),
    (("OPERA", "Des_I"), 56),
    (("OPERA", "Des_I", "HORA", "MIN"), 56),
]
RELATIVE = {  # name -> (windows, age range, age x relative terms): keys relative to SCL's same window
    "rel": (DEFAULT, (8, 60), False),
    "rel_age": (DEFAULT, (8, 60), True),
    "rel_long": (LONG_REL, (8, 60), False),
    "rel_mid": (MID_REL, (8, 60), False),
    "rel_long_age": (LONG_REL, (8, 60), True),
}
ORIGINAL_LAGGED = transformers.FlightFeatures._lagged
EXTRA_HISTORY = [("OPERA", "TIPOVUELO"), ("Des_I", "HORA"), ("OPERA", "DIANOM"), ("TIPOVUELO", "HORA")]
MORE_HISTORY = EXTRA_HISTORY + [("Des_I", "DIANOM"), ("OPERA", "Des_I", "DIANOM"), ("periodo_dia", "DIANOM")]
FEATURE_SETS["static_te4"] = {**STATIC, "history": STATIC["history"] + EXTRA_HISTORY}
FEATURE_SETS["static_te7"] = {**STATIC, "history": STATIC["history"] + MORE_HISTORY}
ORIGINAL_AGES = transformers.STALE_AGE_DAYS


def _register_relative(name: str) -> str:
    windows, ages, age_terms = RELATIVE[name]
    FEATURE_SETS[name] = {**STATIC, "lagged": windows}
    transformers.STALE_AGE_DAYS = ages
    scl = {width: i for i, (key, width) in enumerate(windows) if key == ()}
    others = [(i, scl[width]) for i, (key, width) in enumerate(windows) if key != ()]

    def lagged(self, key_codes, days, drawn):
        block = ORIGINAL_LAGGED(self, key_codes, days, drawn)
        relative = np.column_stack([block[:, i] - block[:, j] for i, j in others])
        age = block[:, len(windows)]
        return np.column_stack([relative, relative * age[:, None]]) if age_terms else relative

    transformers.FlightFeatures._lagged = lagged
    return name


def _register(name: str) -> str:
    if name in RELATIVE:
        return _register_relative(name)
    if name not in VARIANTS:
        return name
    windows, ages, age_terms = VARIANTS[name]
    FEATURE_SETS[name] = {**STATIC, "lagged": windows}
    transformers.STALE_AGE_DAYS = ages

    def lagged(self, key_codes, days, drawn):  # the rates alone when the age terms are off
        block = ORIGINAL_LAGGED(self, key_codes, days, drawn)
        return block if age_terms else block[:, : len(windows)]

    transformers.FlightFeatures._lagged = lagged
    return name


def main(variants: list[str], periods: tuple[int, ...]) -> None:
    data = pd.read_csv(SCL_FEATURES)
    for last in periods:
        part = data[data["MES"] <= last].reset_index(drop=True)
        params = json.loads(os.environ.get("SCREEN_PARAMS", "{}"))  # e.g. {"C": 0.1}
        config = TrainConfig(model="logreg", features="full", seed=42, params=params)
        inputs, y = training_data(part, config.year)
        train_rows, test_rows = holdout_split(part, "temporal", [], 0.2, 42, last_months=2)
        for variant in variants:
            started = time.perf_counter()
            feature_set = _register(variant)
            pipeline, threshold, knots = fit_with_threshold(
                inputs.iloc[train_rows], y[train_rows], config, feature_set
            )
            shift_days = int(os.environ.get("SCREEN_SHIFT_DAYS", "0"))  # recent-level shift at fit time
            if shift_days:
                train_days = transformers.FlightFeatures(year=2017).flight_days(inputs.iloc[train_rows])
                recent = train_days > train_days.max() - shift_days
                r1, r0 = y[train_rows][recent].mean(), y[train_rows].mean()
                odds = (r1 / (1 - r1)) / (r0 / (1 - r0))

                def shift(p, odds=odds):
                    return p * odds / (p * odds + 1 - p)

                knots, threshold = (knots[0], shift(knots[1])), float(shift(threshold))
            test = inputs.iloc[test_rows]
            step = outcome_history_step(pipeline)
            days = transformers.FlightFeatures(year=2017).flight_days(test)
            until = transformers.FlightFeatures(year=2017).flight_days(inputs.iloc[train_rows]).max()
            stale = days - until > 7
            frozen = calibrate(pipeline.predict_proba(test.iloc[np.flatnonzero(stale)])[:, 1], knots)
            if step is not None:
                step.record_outcomes(inputs, y)
                step.lag_days_ = 7
            late = calibrate(pipeline.predict_proba(test)[:, 1], knots)
            row = {}
            for name, truth, probability in (
                ("frozen_stale_days", y[test_rows][stale], frozen),
                ("late_7", y[test_rows], late),
            ):
                m = classification_metrics(truth, probability, threshold)
                row[name] = [round(m[k], 4) for k in ("roc_auc", "f1_delayed", "ece", "brier")]
                row[name].append(round(float(np.mean(probability)), 3))
            row["seconds"] = round(time.perf_counter() - started, 1)
            print(last, variant, json.dumps(row), flush=True)
            transformers.FlightFeatures._lagged = ORIGINAL_LAGGED
            transformers.STALE_AGE_DAYS = ORIGINAL_AGES


if __name__ == "__main__":
    main(
        sys.argv[1].split(","),
        tuple(int(m) for m in sys.argv[2].split(",")) if len(sys.argv) > 2 else (8, 10),
    )
