"""Permutation importance of input fields: how much ROC-AUC drops when one field is shuffled."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from latam_airlines.models.parallel_fit import one_native_thread


def permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    inputs: pd.DataFrame,
    y: np.ndarray,
    fields: Sequence[str],
    repeats: int | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """`field, auc_drop, auc_drop_std`, largest drop first. Fields, not encoded columns: a
    field's category code, history rates and congestion counts move together. Repeats and seed
    not given: the settings' evaluate.permutation_repeats and seed. The shuffled copies are
    scored on `n_jobs` cores (-1: every core; `predict` must then pickle: a functools.partial,
    not a lambda); the shuffles are drawn here, in order, so the result does not depend on it."""
    from latam_airlines.parallel import cores, run_batches
    from latam_airlines.settings import current, filled

    (repeats,), (seed,) = (
        filled(current().evaluate, permutation_repeats=repeats),
        filled(current(), seed=seed),
    )
    generator = np.random.default_rng(seed)
    baseline = roc_auc_score(y, predict(inputs))
    shuffles = [
        (field, generator.permutation(inputs[field].to_numpy())) for field in fields for _ in range(repeats)
    ]
    workers = max(1, min(cores(n_jobs), len(shuffles)))
    # One batch per core: the model and the rows travel to a worker once.
    batches = [shuffles[start::workers] for start in range(workers)]
    scores: list[float] = [0.0] * len(shuffles)
    score = functools.partial(_shuffled_auc, predict, inputs, y)
    for start, batch_scores in run_batches(score, batches, workers):
        scores[start::workers] = batch_scores
    rows = []
    for number, field in enumerate(fields):
        drops = [baseline - auc for auc in scores[number * repeats : (number + 1) * repeats]]
        rows.append({"field": field, "auc_drop": float(np.mean(drops)), "auc_drop_std": float(np.std(drops))})
    return pd.DataFrame(rows).sort_values("auc_drop", ascending=False).reset_index(drop=True)


@one_native_thread  # in a worker too: the scores do not depend on its thread count
def _shuffled_auc(
    predict: Callable[[pd.DataFrame], np.ndarray],
    inputs: pd.DataFrame,
    y: np.ndarray,
    shuffles: list[tuple[str, np.ndarray]],
) -> list[float]:
    """ROC-AUC of each copy of `inputs` with one field's values replaced by a shuffle."""
    aucs = []
    for field, values in shuffles:
        shuffled = inputs.copy()
        shuffled[field] = values
        aucs.append(roc_auc_score(y, predict(shuffled)))
    return aucs
