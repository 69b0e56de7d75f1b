"""Per-tier probability calibration: raw scores -> observed delay rates.

A monotone map (isotonic regression on the training part's out-of-fold probabilities, its
steps' centres stored as knots and joined by straight lines with `np.interp`, a few
microseconds per batch). Class weights inflate raw scores; the map undoes that, and
ROC/PR-AUC are unchanged by it (models/feed_tiers.py applies one map per tier).
"""

from __future__ import annotations

import numpy as np

# Calibrated probabilities stay inside (0, 1): a flight is never certain.
PROBABILITY_FLOOR = 1e-3


def fit_calibration(probability: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots (raw score, calibrated probability) of an isotonic fit of `y` on `probability`.

    Isotonic regression is a step function: every raw score inside a step would get the same
    probability, so a fed outcome or a later departure could move the score without moving the
    answer. The knots are the steps' centres (mean raw score of the rows in each step) with the
    step's rate, joined by straight lines: still calibrated, strictly increasing between the
    first and last centre, so the ranking (ROC-AUC) is kept.
    """
    from sklearn.isotonic import IsotonicRegression

    probability = np.asarray(probability, dtype=float)
    isotonic = IsotonicRegression(
        out_of_bounds="clip", y_min=PROBABILITY_FLOOR, y_max=1 - PROBABILITY_FLOOR
    ).fit(probability, y)
    levels, step = np.unique(isotonic.predict(probability), return_inverse=True)
    centres = np.bincount(step, weights=probability) / np.bincount(step)
    return centres, levels


def calibrate(probability: np.ndarray, knots: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The calibration map (identity without knots); beyond the knots, the end values."""
    if knots is None:
        return probability
    return np.interp(probability, knots[0], knots[1])
