"""One classifier, up to three fitted pipelines ("tiers"), each with its own calibration map
and decision threshold:

- `full`: rich records (every field the full feature set reads), recent delay rates fed;
- `stale`: the same records when the model's outcome history is more than `stale_after_days`
  days older than the flight (the feed stopped): a feature set without recent rates, whose
  threshold was chosen for it. Stale recent rates slide back to the last recorded days and
  the fed threshold no longer fits them (Nov-Dec frozen F1 0.41 against 0.43-0.44 without
  recent rates);
- `minimal`: records with only OPERA, TIPOVUELO, MES: a model trained on exactly those
  fields (a model trained on complete rows, fed a default hour and destination, answers for
  that default flight, not for "any flight of this airline this month").

Probabilities are calibrated per tier: a monotone map (isotonic regression on the training
part's out-of-fold probabilities, its steps' centres stored as knots and joined by straight
lines with `np.interp`, a few microseconds per batch) sends each raw score to the delay rate observed for such scores.
Class weights inflate raw scores (mean 0.46 against an observed 0.23); the map undoes that,
and ROC/PR-AUC are unchanged by it. Each tier's F1-optimal threshold is chosen on the same
calibrated out-of-fold probabilities, so a label is `probability >= threshold of its tier`
(`decide`): thresholds differ between tiers, the probabilities mean the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

TIERS: tuple[str, ...] = ("full", "stale", "minimal")
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


class TieredClassifier(BaseEstimator, ClassifierMixin):
    """Routes each row to a tier (see the module docstring); `predict_proba` is calibrated."""

    # Artifacts written before calibration and the stale tier unpickle without these.
    stale = None
    thresholds = None
    calibration = None
    stale_after_days = None

    def __init__(
        self,
        full: Any = None,
        minimal: Any = None,
        stale: Any = None,
        full_fields: Sequence[str] = (),
        thresholds: Mapping[str, float] | None = None,
        calibration: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        stale_after_days: int | None = None,
    ) -> None:
        self.full = full
        self.minimal = minimal
        self.stale = stale
        self.full_fields = full_fields
        self.thresholds = thresholds
        self.calibration = calibration
        self.stale_after_days = stale_after_days
        self.classes_ = np.array([0, 1])

    # ------------------------------------------------------------------ routing
    def full_rows(self, X: pd.DataFrame) -> np.ndarray:
        """True where the row carries every field the full model reads."""
        if self.full is None:
            return np.zeros(len(X), dtype=bool)
        if self.minimal is None:
            return np.ones(len(X), dtype=bool)
        present = np.ones(len(X), dtype=bool)
        for field in self.full_fields:
            present &= ~pd.isna(X[field].to_numpy())
        return present

    def history_step(self) -> Any:
        """The full tier's feature step when it keeps a recent-delay history, else None."""
        step = getattr(self.full, "named_steps", {}).get("features")
        return step if getattr(step, "outcomes_", None) else None

    def stale_rows(self, X: pd.DataFrame) -> np.ndarray:
        """True where the flight's day is more than `stale_after_days` after the history's end."""
        step = self.history_step()
        if self.stale is None or self.stale_after_days is None or step is None:
            return np.zeros(len(X), dtype=bool)
        if np.isnan(step.outcomes_until_):
            return np.ones(len(X), dtype=bool)
        gap = step.flight_days(X) - step.outcomes_until_
        return np.nan_to_num(gap, nan=0.0) > self.stale_after_days

    def route(self, X: pd.DataFrame) -> np.ndarray:
        """Tier name of each row."""
        tier = np.full(len(X), "minimal", dtype=object)
        rich = self.full_rows(X)
        tier[rich] = "full"
        if rich.any() and self.stale is not None:
            rich_positions = np.flatnonzero(rich)
            stale = self.stale_rows(X.iloc[rich_positions])
            tier[rich_positions[stale]] = "stale"
        return tier

    # ------------------------------------------------------------------ scoring
    def tier_probability(self, tier: str, X: pd.DataFrame, calibrated: bool = True) -> np.ndarray:
        """Probabilities of `tier` for every row of X (whatever its route)."""
        raw = getattr(self, tier).predict_proba(X)[:, 1]
        return calibrate(raw, (self.calibration or {}).get(tier)) if calibrated else raw

    def decide(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(calibrated probability, threshold, tier) per row."""
        tier = self.route(X)
        probability = np.empty(len(X), dtype=float)
        threshold = np.empty(len(X), dtype=float)
        thresholds = self.thresholds or {  # an artifact from before: one threshold per tier
            "full": getattr(self, "full_threshold", 0.5),
            "minimal": getattr(self, "minimal_threshold", 0.5),
        }
        for name in TIERS:
            rows = tier == name
            if not rows.any():
                continue
            part = X if rows.all() else X.iloc[np.flatnonzero(rows)]
            probability[rows] = self.tier_probability(name, part)
            threshold[rows] = thresholds.get(name, 0.5)
        return probability, threshold, tier

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        probability = self.decide(X)[0]
        return np.column_stack([1 - probability, probability])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        probability, threshold, _ = self.decide(X)
        return (probability >= threshold).astype(int)
