"""One classifier, two fitted pipelines: rich records go to the full model, minimal ones
(only OPERA, TIPOVUELO, MES) to a model trained on exactly those fields.

Why not one model with defaults: a model trained on complete rows, fed a default hour and
destination, answers for that default flight, not for "any flight of this airline this month".
The minimal model answers the question the minimal record actually asks.

Each tier has its own F1-optimal threshold (chosen on validation rows). So that one
`threshold` serves both (the API compares probabilities with `model.threshold`), the minimal
tier's probabilities go through a monotone piecewise-linear map sending its threshold onto the
full tier's: rankings (ROC/PR-AUC) and labels are unchanged by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin


def align_threshold(probability: np.ndarray, own: float, target: float) -> np.ndarray:
    """Monotone map of [0, 1] onto itself sending `own` to `target`."""
    own = float(np.clip(own, 1e-6, 1 - 1e-6))
    low = probability * (target / own)
    high = target + (probability - own) * ((1 - target) / (1 - own))
    return np.where(probability <= own, low, high)


class TieredClassifier(BaseEstimator, ClassifierMixin):
    """Routes each row to `full` when every one of `full_fields` is present, else `minimal`."""

    def __init__(
        self,
        full: Any = None,
        minimal: Any = None,
        full_fields: Sequence[str] = (),
        full_threshold: float = 0.5,
        minimal_threshold: float = 0.5,
    ) -> None:
        self.full = full
        self.minimal = minimal
        self.full_fields = full_fields
        self.full_threshold = full_threshold
        self.minimal_threshold = minimal_threshold
        self.classes_ = np.array([0, 1])

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

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        rich = self.full_rows(X)
        delayed = np.empty(len(X), dtype=float)
        if rich.all():
            delayed[:] = self.full.predict_proba(X)[:, 1]
        elif not rich.any():
            delayed[:] = self._minimal(X)
        else:
            delayed[rich] = self.full.predict_proba(X[rich])[:, 1]
            delayed[~rich] = self._minimal(X[~rich])
        return np.column_stack([1 - delayed, delayed])

    def _minimal(self, X: pd.DataFrame) -> np.ndarray:
        raw = self.minimal.predict_proba(X)[:, 1]
        if self.full is None:
            return raw
        return align_threshold(raw, self.minimal_threshold, self.full_threshold)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.full_threshold).astype(int)
