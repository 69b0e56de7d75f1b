"""The training protocol's fits as one batch: in this process and `n_jobs - 1` worker processes.

Every fit of `train` (each tier's out-of-fold pipelines and refits, on the training part and
on every row) is independent of the others, so the protocol lists them first (`FitJob`), runs
them together (`run_fits`, over latam_airlines/parallel.py's `run_batches`: loky workers take jobs
from the front, this process from the back) and reads the results in the listed order.

Each fit (and train's scoring: `one_native_thread`) runs with one BLAS / OpenMP thread
(threadpoolctl), whatever `n_jobs` and the user's OMP_NUM_THREADS: lbfgs's sums in another
order moved the flat-F1 tiers' thresholds with numpy's thread count (minimal 0.154 on 2
threads, 0.166 on 1), and the holdout metrics in their last digits; now a model and its
metrics are the same on any thread setting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from latam_airlines.models.pipelines import make_pipeline, outcome_history_step, record_schedule
from latam_airlines.models.threshold_rules import LEVEL_DAYS


@dataclass
class FitJob:
    """One pipeline to fit: on `fit_rows` of (inputs, y), scoring `scored_rows` (an
    out-of-fold fold), or on every row when `fit_rows` is None (a refit: the pipeline is the
    result). `label` names it in progress messages."""

    label: str
    inputs: pd.DataFrame
    y: np.ndarray
    model: str
    feature_set: str
    balance: str
    params: dict[str, Any]
    seed: int
    year: int | None
    fit_rows: np.ndarray | None = None
    scored_rows: np.ndarray | None = None
    levels: bool = False  # also the level (SCL's recent delay rate) each scored row reads

    @property
    def rows(self) -> int:
        return len(self.y) if self.fit_rows is None else len(self.fit_rows)


@dataclass
class FoldScores:
    """What an out-of-fold fit gives: its scored rows' probabilities (and levels)."""

    rows: np.ndarray
    probability: np.ndarray
    level: np.ndarray | None


def one_native_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` run with one BLAS / OpenMP thread (see the module docstring); train and
    holdout_evaluation score with it too, so their metrics match to the last digit."""

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return function(*args, **kwargs)

    return limited


@one_native_thread
def run_fit(job: FitJob) -> Any:
    """The fitted pipeline of a refit, the FoldScores of a fold."""
    if job.fit_rows is None:
        pipeline = make_pipeline(
            job.model, job.y, job.feature_set, job.balance, job.params, job.seed, job.year
        )
        return pipeline.fit(job.inputs, job.y)
    y_fit = job.y[job.fit_rows]
    pipeline = make_pipeline(job.model, y_fit, job.feature_set, job.balance, job.params, job.seed, job.year)
    pipeline.fit(job.inputs.iloc[job.fit_rows], y_fit)
    history = outcome_history_step(pipeline)
    if history is not None:  # as deployed: recent rates count every earlier day's departures
        history.record_outcomes(job.inputs, job.y)
    record_schedule(pipeline, job.inputs)  # schedules are published ahead: every row's
    scored = job.inputs.iloc[job.scored_rows]
    probability = pipeline.predict_proba(scored)[:, 1]
    level = history.scl_recent_rate(scored, LEVEL_DAYS) if history is not None and job.levels else None
    return FoldScores(job.scored_rows, probability, level)


def run_fits(jobs: Sequence[FitJob], n_jobs: int, on_step: Callable[[str], None] | None = None) -> list[Any]:
    """`run_fit` of every job, in the jobs' order, on `n_jobs` cores; `on_step` hears each
    fit as it finishes. The results do not depend on `n_jobs`."""
    from latam_airlines.parallel import run_batches

    # Largest fits first (workers take from the front): the last ones to finish are short.
    order = sorted(range(len(jobs)), key=lambda k: -jobs[k].rows)
    results: list[Any] = [None] * len(jobs)
    for done, (index, result) in enumerate(run_batches(run_fit, [jobs[k] for k in order], n_jobs), start=1):
        results[order[index]] = result
        if on_step is not None:
            on_step(f"fitted {jobs[order[index]].label} ({done}/{len(jobs)})")
    return results
