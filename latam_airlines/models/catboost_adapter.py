"""CatBoost on FlightFeatures' category codes.

CatBoost learns ordered target statistics for categorical columns (each row's category rate
from the rows before it in a random order: no row sees its own label), so it gets raw
categories and their combinations instead of precomputed delay rates. It needs categorical
columns as integers: the leading `n_categorical` columns of the matrix are codes (NaN, an
unknown value, becomes -1, one more category CatBoost scores with its prior).

catboost is an optional extra (`pip install -e ".[catboost]"`): it is imported only when a
CatBoost model is built or fitted, so the rest of the package works without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from latam_airlines.errors import InputError

INSTALL_HINT = 'pip install -e ".[catboost]"'


def catboost_available() -> bool:
    try:
        import catboost  # noqa: F401
    except ImportError:
        return False
    return True


def require_catboost() -> None:
    """InputError (CLI exit 2) with the install command when the optional extra is missing."""
    if not catboost_available():
        raise InputError(
            f"model 'catboost' needs the optional package catboost, not installed: {INSTALL_HINT}"
        )


class CatBoostOnCodes(BaseEstimator, ClassifierMixin):
    def __init__(
        self,
        n_categorical: int = 0,
        iterations: int = 300,
        depth: int = 4,
        learning_rate: float = 0.08,
        scale_pos_weight: float = 1.0,
        random_state: int = 42,
        n_jobs: int = 1,
    ) -> None:
        self.n_categorical = n_categorical
        self.iterations = iterations
        self.depth = depth
        self.learning_rate = learning_rate
        self.scale_pos_weight = scale_pos_weight
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _frame(self, X: np.ndarray) -> pd.DataFrame:
        X = np.asarray(X)
        columns: dict[str, Any] = {}
        for position in range(X.shape[1]):
            values = X[:, position]
            if position < self.n_categorical:
                values = np.where(np.isnan(values), -1, values).astype(np.int64)
            columns[f"f{position}"] = values
        return pd.DataFrame(columns, copy=False)

    def fit(self, X: np.ndarray, y: Any) -> CatBoostOnCodes:
        require_catboost()
        from catboost import CatBoostClassifier

        self.model_ = CatBoostClassifier(
            iterations=self.iterations,
            depth=self.depth,
            learning_rate=self.learning_rate,
            scale_pos_weight=self.scale_pos_weight,
            random_seed=self.random_state,
            thread_count=self.n_jobs,
            cat_features=list(range(self.n_categorical)),
            verbose=0,
            allow_writing_files=False,
        )
        self.model_.fit(self._frame(X), np.asarray(y))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        # Serving sets n_jobs to 1 after training; CatBoost reads its thread count per call.
        return self.model_.predict_proba(self._frame(X), thread_count=self.n_jobs)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
