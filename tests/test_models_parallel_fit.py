"""Training's fits in worker processes (train.n_jobs) give the model one process gives: the
same thresholds, calibration maps and probabilities, whatever numpy's thread count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from latam_airlines.models import train
from latam_airlines.models.parallel_fit import FitJob, run_fit
from latam_airlines.models.training_data import training_data

pytestmark = pytest.mark.slow  # two trainings of a sample, one with a worker process


def test_two_processes_train_the_model_one_process_trains(scl_features: pd.DataFrame) -> None:
    sample = scl_features.sample(6000, random_state=5).reset_index(drop=True)
    steps: list[str] = []
    single = train(sample, n_jobs=1, threshold_folds=2)
    double = train(sample, n_jobs=2, threshold_folds=2, on_step=steps.append)
    assert single.pipeline.thresholds == double.pipeline.thresholds
    assert single.metrics == double.metrics
    assert single.evidence["importance"] == double.evidence["importance"]
    for tier, (raw, calibrated) in single.pipeline.calibration.items():
        assert np.array_equal(raw, double.pipeline.calibration[tier][0])
        assert np.array_equal(calibrated, double.pipeline.calibration[tier][1])
    assert np.array_equal(single.predict_proba(sample), double.predict_proba(sample))
    # Every fit is reported once as it finishes: 5 tiers (stale_schedule is the default) x
    # (2 folds + refit) on the training part, then the minimal tiers again on every row and one
    # refit for each of the others.
    fitted = [step for step in steps if step.startswith("fitted ")]
    assert len(fitted) == len(set(fitted)) == 5 * 3 + 2 * 3 + 3
    assert fitted[-1].endswith("(24/24)") and "fitted minimal features: fold 2/2 of every row" in " ".join(
        fitted
    )


def test_a_fit_runs_on_one_native_thread(scl_features: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fits' sums do not depend on OMP_NUM_THREADS (flat F1 curves moved thresholds)."""
    threads: list[int] = []
    from latam_airlines.models import parallel_fit

    def spy(*args, **kwargs):
        threads.extend(pool["num_threads"] for pool in threadpool_info())
        return make_pipeline(*args, **kwargs)

    make_pipeline = parallel_fit.make_pipeline
    monkeypatch.setattr(parallel_fit, "make_pipeline", spy)
    inputs, y = training_data(scl_features.sample(2000, random_state=6).reset_index(drop=True))
    with threadpool_limits(limits=2):  # what the user's OMP_NUM_THREADS may say
        run_fit(FitJob("minimal", inputs, y, "logreg", "minimal", "weight", {}, 42, None))
    assert threads and set(threads) == {1}
