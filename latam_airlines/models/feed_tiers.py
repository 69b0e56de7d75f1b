"""Feed tiers: one classifier routing each flight to one of up to three fitted pipelines
("tiers") by what its record carries and how fresh the outcome feed is, each tier with its
own calibration map (models/calibration.py) and decision threshold:

- `full`: rich records (every field the full feature set reads), recent delay rates fed;
- `stale`: the same records when the model's outcome history is more than `stale_after_days`
  days older than the flight (the feed stopped): a feature set without recent rates, whose
  threshold was chosen for it. Stale recent rates slide back to the last recorded days and
  the fed threshold no longer fits them (Nov-Dec frozen F1 0.41 against 0.43-0.44 without
  recent rates);
- `minimal`: records with only OPERA, TIPOVUELO, MES: a model trained on exactly those
  fields (a model trained on complete rows, fed a default hour and destination, answers for
  that default flight, not for "any flight of this airline this month").

Probabilities are calibrated per tier: the map sends each raw score to the delay rate observed
for such scores (class weights inflate raw scores: mean 0.46 against an observed 0.23). Each
tier's F1-optimal threshold is chosen on the same
calibrated out-of-fold probabilities, so a label is `probability >= threshold of its tier`
(`decide`): thresholds differ between tiers, the probabilities mean the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from latam_airlines.models.calibration import calibrate

TIERS: tuple[str, ...] = ("full", "stale", "minimal")


class TieredClassifier(BaseEstimator, ClassifierMixin):
    """Routes each row to a tier (see the module docstring); `predict_proba` is calibrated.

    The training protocol (models/training.py) fits each tier on its own and assembles them
    with their thresholds and calibration maps; `fit` fits every given tier on the same rows
    (in place, as scikit-learn's Pipeline fits its steps). Like Pipeline, `classes_` comes
    from the fitted tiers, never from `__init__`.
    """

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

    def _tiers(self) -> list[Any]:
        return [tier for tier in (self.full, self.stale, self.minimal) if tier is not None]

    def fit(self, X: pd.DataFrame, y: Any) -> TieredClassifier:
        """Fit every given tier on (X, y); thresholds and calibration maps stay as given."""
        for tier in self._tiers():
            tier.fit(X, y)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return bool(self._tiers()) and all(hasattr(tier, "classes_") for tier in self._tiers())

    @property
    def classes_(self) -> np.ndarray:
        """The fitted tiers' classes (0 on time, 1 delayed), as scikit-learn's Pipeline does."""
        from sklearn.exceptions import NotFittedError

        if not self.__sklearn_is_fitted__():
            raise NotFittedError("TieredClassifier has no fitted tier")
        return self._tiers()[0].classes_

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
        thresholds = self.thresholds or {}
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
