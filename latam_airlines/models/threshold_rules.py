"""Decision thresholds that follow the delay level (the minimal tiers).

The minimal tiers' probabilities rise with SCL's recent delay rate (their recent-rate features),
so a fixed threshold flags more flights when the level rises: capped at half the training
flights, the fed minimal tier flagged 62-66 % of Nov-Dec (22.6 % delayed after 17.6 %); capped at
half within every training month, the cap followed the highest month (July, 29 %) and Nov-Dec
flagged 23 %, F1 below "all delayed" (reports/model_selection.md, seventh pass). The rule here:

    threshold = max(floor, intercept + slope x level)

`level` is SCL's smoothed delay rate over the `days` days before the flight (what the tier
reads); `slope` is how much the tier's calibrated probability rises per unit of level, read off
the fitted model itself (`level_response`: every out-of-fold row scored again with all its
recent-rate features raised by RESPONSE_STEP, mean calibrated rise / RESPONSE_STEP, clipped at
0); the cap line `intercept + slope x level` is the threshold that labels `max_flagged` of the
training flights once their probabilities are moved to the same level, so the share flagged
stays near the cap when the level moves; `floor` is the F1-optimal threshold under that cap (out
of fold). The slope was first a least-squares fit of the out-of-fold probabilities on the level;
fitted on Jan-Oct with whole months held out it came out <= 0 (the months' own effects hid the
rise), was clipped to 0, and Nov-Dec, at a higher level, flagged 62 %. The model's response
replaced it (same labels on the backtests: slopes 0.29 / 0.36) but is <= 0 on Jan-Oct as well:
beside the month categories the tier weighs the 28-day windows negatively and the 7-day ones
positively (mostly the last week's rise over the month, not the level), so Nov-Dec was again
labelled at one threshold (reports/model_selection.md, eighth pass). A threshold rising in
proportion to the level (k x level, or the F1*/2 of calibrated scores) cut the backtests' F1
(Jul-Aug 0.435 -> 0.36-0.39): the tier's calibrated probabilities lag a level rise, so it
flagged too few.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

LEVEL_DAYS = 28  # the level a rule reads: SCL's delay rate over the last 28 days
# How far the recent-rate features are raised to read the model's response to the level: small
# beside the months' 28-day levels (0.13-0.23), large enough to cross the calibration map's steps.
RESPONSE_STEP = 0.05
RECENT_FEATURE_PREFIX = "recent_rate["  # FlightFeatures.get_feature_names_out


def level_response(pipeline: Any, X: pd.DataFrame, step: float = RESPONSE_STEP) -> np.ndarray:
    """The pipeline's (raw) probability of each row of X with every recent-rate feature raised
    by `step`: the level moved, all else kept (the features' matrix is changed, then the
    pipeline's other steps score it)."""
    features = pipeline.named_steps["features"]
    matrix = features.transform(X)
    recent = np.char.startswith(features.get_feature_names_out().astype(str), RECENT_FEATURE_PREFIX)
    if not recent.any():
        raise ValueError("the pipeline reads no recent-rate feature: no response to the level")
    matrix[:, recent] += step
    return pipeline[1:].predict_proba(matrix)[:, 1]


def response_slope(probability: np.ndarray, raised: np.ndarray, step: float = RESPONSE_STEP) -> float:
    """Mean rise of the (calibrated) probability per unit of level, never below 0:
    `probability` as scored, `raised` with the recent-rate features raised by `step`."""
    rise = np.asarray(raised, dtype=float) - np.asarray(probability, dtype=float)
    return max(float(rise.mean()) / step, 0.0) if len(rise) else 0.0


def fit_level_rule(
    y: np.ndarray,
    probability: np.ndarray,
    level: np.ndarray,
    max_flagged: float,
    slope: float,
    days: int = LEVEL_DAYS,
) -> dict[str, Any]:
    """The rule (see the module docstring) fitted on out-of-fold calibrated probabilities, the
    level each row read and the tier's `slope` (`response_slope`). Plain numbers, so artifacts
    pickle it and /model shows it."""
    y = np.asarray(y, dtype=float)
    probability = np.asarray(probability, dtype=float)
    level = np.asarray(level, dtype=float)
    if len(y) == 0 or not 0 < max_flagged <= 1:
        raise ValueError("a level rule needs rows and a flagged share in (0, 1]")
    if not slope >= 0:
        raise ValueError(f"a level rule's slope must be >= 0, got {slope!r}")
    slope = float(slope)
    mean_level = float(level.mean())
    at_mean_level = probability - slope * (level - mean_level)
    intercept = float(np.quantile(at_mean_level, 1 - max_flagged)) - slope * mean_level
    floor = _best_floor(y, probability, intercept + slope * level)
    return {
        "level": f"SCL delay rate over the last {days} days",
        "days": int(days),
        "floor": floor,
        "intercept": intercept,
        "slope": slope,
        "max_flagged": float(max_flagged),
    }


def _best_floor(y: np.ndarray, probability: np.ndarray, cap: np.ndarray) -> float:
    """The floor maximising F1 of `probability >= max(floor, cap)`: among rows above their cap,
    the flagged ones are those at or above the floor (recall counts every delayed row)."""
    eligible = probability >= cap
    if not eligible.any():
        return float(np.max(probability))
    order = np.argsort(-probability[eligible], kind="stable")
    ranked = probability[eligible][order]
    true_positives = np.cumsum(y[eligible][order])
    flagged = np.arange(1, len(ranked) + 1)
    last_of_value = np.r_[ranked[1:] != ranked[:-1], True]  # ties are flagged together
    f1 = np.where(last_of_value, 2 * true_positives / (y.sum() + flagged), -1.0)
    return float(ranked[int(np.argmax(f1))])


def rule_thresholds(rule: Mapping[str, Any], level: np.ndarray) -> np.ndarray:
    """The threshold of each row, from the level it reads."""
    cap = rule["intercept"] + rule["slope"] * np.asarray(level, dtype=float)
    return np.maximum(rule["floor"], cap)


def describe_rule(rule: Mapping[str, Any]) -> str:
    """The rule in one line, as /model and the artifact's metadata show it."""
    return (
        f"max({rule['floor']:.4f}, {rule['intercept']:.4f} + {rule['slope']:.4f} x {rule['level']}): "
        f"at most {rule['max_flagged']:.0%} flagged as the level moves"
    )
