"""Model selection: every candidate (models/pipelines.py) under the same two protocols, as a
table, and its markdown report (`markdown_table`).

Protocols: stratified K-fold (mean ± std over folds) and the temporal holdout (by default
the last 2 months present: Nov–Dec on the SCL 2017 table; see splits.py). In both, each
training part picks its own threshold on an inner validation share and imbalance handling lives inside the pipeline, so no test row influences a fit.
Candidates read every field (the full tier); the minimal-record tier is reported by `train`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from latam_airlines.errors import InputError
from latam_airlines.models.calibration import calibrate
from latam_airlines.models.metrics import classification_metrics
from latam_airlines.models.pipelines import Candidate, outcome_history_step
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training import TrainConfig, fit_with_threshold
from latam_airlines.models.training_data import training_data

REPORTED: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "f1_delayed",
    "recall_delayed",
    "precision_delayed",
    "accuracy",
)


def stratified_sample(processed: pd.DataFrame, rows: int | None, seed: int) -> pd.DataFrame:
    """At most `rows` rows, keeping the delay rate and every month (for the temporal split)."""
    if not rows or rows >= len(processed):
        return processed
    from latam_airlines.features import TARGET

    share = rows / len(processed)
    sample = processed.groupby([processed["MES"], processed[TARGET]], group_keys=False, observed=True).sample(
        frac=share, random_state=seed
    )
    sample.attrs = processed.attrs
    return sample.sort_index()


def _score(
    candidate: Candidate,
    inputs: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
) -> dict:
    """Metrics on `test`. The recent-delay history gets every row's outcome (test rows' too),
    each visible from the next day on, as in holdout_evaluation."""
    # One 20 % validation share picks each threshold (not train's 5 folds): five times fewer fits
    # for a table of 13 candidates x 6 splits; the threshold-free metrics are unaffected.
    config = TrainConfig(model=candidate.model, features=candidate.features, balance=candidate.balance, params=candidate.params, seed=seed, threshold_folds=1)  # fmt: skip
    feature_set = "reference" if candidate.model == "reference" else candidate.features
    pipeline, threshold, knots, _ = fit_with_threshold(inputs.iloc[train], y[train], config, feature_set)
    history = outcome_history_step(pipeline)
    if history is not None:
        history.record_outcomes(inputs, y)
    probability = calibrate(pipeline.predict_proba(inputs.iloc[test])[:, 1], knots)
    return classification_metrics(y[test], probability, threshold)


def compare_models(
    processed: pd.DataFrame,
    candidates: Sequence[Candidate],
    folds: int | None = None,
    seed: int | None = None,
    year: int | None = None,
    split: Mapping[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per (candidate, protocol, fold) with the REPORTED metrics; `split`: holdout_split
    keywords for the temporal holdout (the settings', via splits.split_options). Folds and seed
    not given: the settings' compare.folds and seed."""
    from latam_airlines.settings import current, filled

    (folds,), (seed,) = filled(current().compare, folds=folds), filled(current(), seed=seed)
    if folds < 2:
        raise InputError(f"cross-validation needs at least 2 folds, got {folds}", value=folds)
    inputs, y = training_data(processed, year)
    splits = [
        ("stratified k-fold", fold, train, test)
        for fold, (train, test) in enumerate(
            StratifiedKFold(folds, shuffle=True, random_state=seed).split(inputs, y)
        )
    ]
    train, test = holdout_split(processed, **{"split": "temporal", **(split or {})}, seed=seed, year=year)
    splits.append(("temporal holdout", 0, train, test))
    rows = []
    for candidate in candidates:
        for protocol, fold, train, test in splits:
            metrics = _score(candidate, inputs, y, train, test, seed)
            rows.append(
                {
                    "candidate": candidate.name,
                    "protocol": protocol,
                    "fold": fold,
                    **{k: metrics[k] for k in REPORTED},
                }
            )
            if on_step:
                on_step(f"{candidate.name} / {protocol} {fold}")
    return pd.DataFrame(rows)


def summary_table(results: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """mean and std per candidate and metric for one protocol, in candidate order."""
    subset = results[results["protocol"] == protocol]
    order = list(dict.fromkeys(subset["candidate"]))
    grouped = subset.groupby("candidate", sort=False)[list(REPORTED)]
    # add_suffix, not join(rsuffix=...): pandas deprecates the join suffix keywords.
    table = pd.concat([grouped.mean(), grouped.std(ddof=0).add_suffix("_std")], axis=1).reindex(order)
    return table


def markdown_table(results: pd.DataFrame, protocol: str, candidates: Sequence[Candidate]) -> str:
    """A markdown table: metric columns as `mean ± std` (no std for the single holdout)."""
    table = summary_table(results, protocol)
    notes = {c.name: c.note for c in candidates}
    header = "| candidate | " + " | ".join(REPORTED) + " | what |"
    lines = [header, "|" + "---|" * (len(REPORTED) + 2)]
    single = results[results["protocol"] == protocol].groupby("candidate")["fold"].nunique().max() == 1
    for name, row in table.iterrows():
        cells = [f"{row[m]:.3f}" if single else f"{row[m]:.3f} ± {row[m + '_std']:.3f}" for m in REPORTED]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {notes.get(name, '')} |")
    return "\n".join(lines)
