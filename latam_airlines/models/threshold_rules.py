"""Decision thresholds that follow the delay level (the minimal tiers).

The minimal tiers' probabilities rise with SCL's recent delay rate (their recent-rate features),
so a fixed threshold flags more flights when the level rises: capped at half the training
flights, the fed minimal tier flagged 62-66 % of Nov-Dec (22.6 % delayed after 17.6 %); capped at
half within every training month, the cap followed the highest month (July, 29 %) and Nov-Dec
flagged 23 %, F1 below "all delayed" (reports/model_selection.md, seventh pass). The rule here:

    threshold = max(floor, intercept + slope x level)

`level` is SCL's smoothed delay rate over the `days` days before the flight (what the tier
reads); `slope` is how much the tier's out-of-fold probabilities rise per unit of level (least
squares, never below 0); the cap line `intercept + slope x level` is the threshold that labels
`max_flagged` of the training flights once their probabilities are moved to the same level, so
the share flagged stays near the cap when the level moves, as far as the out-of-fold
probabilities show their rise (fitted on Jan-Oct with whole months held out they showed none:
slope 0, so Nov-Dec was labelled at a fixed threshold: 62-66 % flagged with the F1 argmax as the
floor and a 50 % cap, 37.5 % with the floor and cap below; the model's own response
to its recent-rate features, tried as the slope, is <= 0 there too, and 0 for the served
artifact); `floor` is the steady F1 cut-off of the rows at or above their cap line (out of
fold): the highest whose F1 is within one standard error of the best (models/metrics.py
`steady_f1_cutoff`). The argmax of this tier's flat F1 curve wandered with small changes of the
probabilities (refits under another numpy thread count moved the share it flags out of fold by
up to 10 points, the steady cut-off's by at most 2), and the steady one flags fewer at an F1
within the noise
(reports/model_selection.md, tenth pass). The cap (`max_flagged`, training.MINIMAL_MAX_FLAGGED,
40 %) is the product rule "a minimal label means clearly more likely than most". A threshold rising
in proportion to the level (k x level, or the F1*/2 of calibrated scores) cut the backtests' F1
(Jul-Aug 0.435 -> 0.36-0.39): the tier's calibrated probabilities lag a level rise, so it
flagged too few (reports/model_selection.md, eighth pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from latam_airlines.models.metrics import ranked_cutoffs, steady_f1_cutoff

LEVEL_DAYS = 28  # the level a rule reads: SCL's delay rate over the last 28 days


def fit_level_rule(
    y: np.ndarray, probability: np.ndarray, level: np.ndarray, max_flagged: float, days: int = LEVEL_DAYS
) -> dict[str, Any]:
    """The rule (see the module docstring) fitted on out-of-fold calibrated probabilities and
    the level each row read. Plain numbers, so artifacts pickle it and /model shows it."""
    y = np.asarray(y, dtype=float)
    probability = np.asarray(probability, dtype=float)
    level = np.asarray(level, dtype=float)
    if len(y) == 0 or not 0 < max_flagged <= 1:
        raise ValueError("a level rule needs rows and a flagged share in (0, 1]")
    mean_level = float(level.mean())
    slope = max(float(np.polyfit(level, probability, 1)[0]), 0.0) if np.ptp(level) > 0 else 0.0
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
    """The floor of `probability >= max(floor, cap)` by F1 (`steady_f1_cutoff`): among rows
    above their cap, the flagged ones are those at or above the floor (recall counts every
    delayed row)."""
    eligible = probability >= cap
    if not eligible.any():
        return float(np.max(probability))
    cutoffs, true_positives, flagged = ranked_cutoffs(y[eligible], probability[eligible])
    return float(cutoffs[steady_f1_cutoff(true_positives, flagged, y.sum())])


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
