"""Permutation importance of input fields: how much ROC-AUC drops when one field is shuffled."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    inputs: pd.DataFrame,
    y: np.ndarray,
    fields: Sequence[str],
    repeats: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """`field, auc_drop, auc_drop_std`, largest drop first. Fields, not encoded columns: a
    field's category code, history rates and congestion counts move together. Repeats and seed
    not given: the settings' evaluate.permutation_repeats and seed."""
    from latam_airlines.settings import current, filled

    (repeats,), (seed,) = (
        filled(current().evaluate, permutation_repeats=repeats),
        filled(current(), seed=seed),
    )
    generator = np.random.default_rng(seed)
    baseline = roc_auc_score(y, predict(inputs))
    rows = []
    for field in fields:
        drops = []
        for _ in range(repeats):
            shuffled = inputs.copy()
            shuffled[field] = generator.permutation(shuffled[field].to_numpy())
            drops.append(baseline - roc_auc_score(y, predict(shuffled)))
        rows.append({"field": field, "auc_drop": float(np.mean(drops)), "auc_drop_std": float(np.std(drops))})
    return pd.DataFrame(rows).sort_values("auc_drop", ascending=False).reset_index(drop=True)
