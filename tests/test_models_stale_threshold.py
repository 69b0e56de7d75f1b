"""The stale tiers' threshold follows the level they aim at, and their calibration and threshold
are fitted on rows scored with their whole month held out (the days they answer are unseen)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from latam_airlines.models import TrainConfig
from latam_airlines.models.calibration import calibrate, fit_calibration
from latam_airlines.models.metrics import best_f1_threshold
from latam_airlines.models.pipelines import make_pipeline, record_schedule
from latam_airlines.models.training import aim_at_level, fit_with_threshold, shift_level
from latam_airlines.models.training_data import training_data


def weighted_f1(y: np.ndarray, probability: np.ndarray, cut: float, w1: float, w0: float) -> float:
    flagged = probability >= cut
    tp, fp = w1 * np.sum(flagged & (y == 1)), w0 * np.sum(flagged & (y == 0))
    return 2 * tp / (2 * tp + fp + w1 * np.sum(~flagged & (y == 1)))


@pytest.fixture(scope="module")
def scored_rows() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(raw probability, label, calibration knots): 4,000 rows ranked moderately well."""
    rng = np.random.default_rng(0)
    y = (rng.random(4_000) < 0.18).astype(int)
    raw = 1 / (1 + np.exp(-(rng.normal(size=len(y)) + 0.9 * y - 1.0)))
    return raw, y, fit_calibration(raw, y)


def test_at_the_same_level_nothing_moves(scored_rows) -> None:
    raw, y, knots = scored_rows
    aimed, threshold = aim_at_level(raw, y, knots, 0.18, 0.18)
    np.testing.assert_allclose(calibrate(raw, aimed), calibrate(raw, knots), atol=1e-12)
    assert threshold == pytest.approx(best_f1_threshold(y, calibrate(raw, knots)))


def test_the_threshold_is_the_f1_optimum_at_the_target_level(scored_rows) -> None:
    raw, y, knots = scored_rows
    rate, target = float(y.mean()), 0.26
    aimed, threshold = aim_at_level(raw, y, knots, rate, target)
    # The map is the prior shift of the fitted one (no threshold to keep).
    np.testing.assert_allclose(
        calibrate(raw, aimed), calibrate(raw, shift_level(knots, None, rate, target)[0]), atol=1e-12
    )
    probability = calibrate(raw, aimed)
    w1, w0 = target / rate, (1 - target) / (1 - rate)
    best = max(weighted_f1(y, probability, cut, w1, w0) for cut in np.unique(probability))
    assert weighted_f1(y, probability, threshold, w1, w0) == pytest.approx(best)
    # A higher level flags more of the same rows than keeping the fitted labels would.
    kept = shift_level(knots, best_f1_threshold(y, calibrate(raw, knots)), rate, target)[1]
    assert np.mean(probability >= threshold) > np.mean(probability >= kept)
    # Without a calibration map the raw scores are cut, weighted the same way.
    weights = np.where(y == 1, w1, w0)
    unmapped = best_f1_threshold(y, raw, sample_weight=weights)
    assert aim_at_level(raw, y, None, rate, target) == (None, unmapped)


@pytest.mark.slow
def test_stale_folds_hold_out_whole_months(small_features: pd.DataFrame) -> None:
    """The out-of-fold rows of a stale tier are those of GroupKFold on the months, each scored
    by a pipeline fitted on the other months; its threshold is `aim_at_level` of them."""
    inputs, y = training_data(small_features)
    part = (pd.to_numeric(inputs["MES"]) <= 8).to_numpy()
    inputs, y = inputs[part].reset_index(drop=True), y[part]
    config = TrainConfig(model="logreg", threshold_folds=3, seed=0)
    scores: dict = {}
    _, threshold, knots, rule = fit_with_threshold(
        inputs, y, config, "static_schedule", stale_level=(0.2, 0.25), out_of_fold=scores
    )
    months = inputs["MES"].to_numpy()
    expected, labels = [], []
    for fit_rows, validation_rows in GroupKFold(3).split(inputs, y, groups=months):
        assert not set(months[fit_rows]) & set(months[validation_rows])
        pipeline = make_pipeline("logreg", y[fit_rows], "static_schedule", config.balance, {}, 0, None)
        pipeline.fit(inputs.iloc[fit_rows], y[fit_rows])
        record_schedule(pipeline, inputs)
        expected.append(pipeline.predict_proba(inputs.iloc[validation_rows])[:, 1])
        labels.append(y[validation_rows])
    np.testing.assert_allclose(scores["probability"], np.concatenate(expected), atol=1e-9)
    np.testing.assert_array_equal(scores["y"], np.concatenate(labels))
    aimed, aimed_threshold = aim_at_level(scores["probability"], scores["y"], scores["knots"], 0.2, 0.25)
    assert threshold == pytest.approx(aimed_threshold) and rule is None
    np.testing.assert_allclose(knots[1], aimed[1])
