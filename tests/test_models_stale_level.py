"""The stale tier's calibration aims at the delay rate of the history's last weeks (a prior
shift fixed at fit time): ranking and labels kept, probabilities moved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import TrainConfig, train
from latam_airlines.models.calibration import calibrate
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training import (
    STALE_LEVEL_DAYS,
    aim_at_level,
    fit_with_threshold,
    recent_rate,
    shift_level,
)
from latam_airlines.models.training_data import training_data


def test_shift_level_moves_the_odds_and_keeps_ranking_and_every_label() -> None:
    knots = (np.array([0.1, 0.3, 0.6, 0.9]), np.array([0.05, 0.15, 0.3, 0.6]))
    shifted, threshold = shift_level(knots, 0.2, rate=0.15, target=0.25)
    factor = (0.25 / 0.75) / (0.15 / 0.85)
    assert threshold / (1 - threshold) == pytest.approx(0.2 / 0.8 * factor)
    raw = np.linspace(0.0, 1.0, 2001)
    before, after = calibrate(raw, knots), calibrate(raw, shifted)
    odds = lambda p: p / (1 - p)  # noqa: E731
    # At the knots (and at the threshold, now a knot) every odds is multiplied by the factor.
    np.testing.assert_allclose(odds(calibrate(knots[0], shifted)), odds(knots[1]) * factor)
    assert (np.diff(after) > 0).all() == (np.diff(before) > 0).all()  # the ranking
    np.testing.assert_array_equal(before >= 0.2, after >= threshold)  # every label
    assert after.mean() > before.mean()
    # Shifts compose: 0.15 -> 0.2 -> 0.25 is 0.15 -> 0.25.
    twice = shift_level(*shift_level(knots, 0.2, 0.15, 0.2), 0.2, 0.25)
    np.testing.assert_allclose(calibrate(raw, twice[0]), after, atol=1e-12)
    assert twice[1] == pytest.approx(threshold)


def test_recent_rate_counts_the_last_weeks_only() -> None:
    days = pd.date_range("2017-01-01", "2017-03-31", freq="D")
    frame = pd.DataFrame({"AÑO": 2017.0, "MES": days.month.astype(float), "DIA": days.day.astype(float)})
    y = np.asarray(days > pd.Timestamp("2017-03-31") - pd.Timedelta(days=STALE_LEVEL_DAYS), dtype=int)
    y[-1] = 0  # the last 28 days: 27 delayed, 1 on time; every earlier day on time
    assert recent_rate(frame, y) == pytest.approx(27 / 28)
    assert recent_rate(frame.assign(DIA=np.nan, MES=np.nan), y) == pytest.approx(y.mean())  # undated


@pytest.mark.slow
def test_stale_tier_aims_at_the_last_weeks_when_trained_and_when_served(small_features) -> None:
    """Holdout: the training part's last 28 days' rate; the served artifact (refitted on every
    row): every row's last 28 days, i.e. its own history's end."""
    options = {"model": "logreg", "threshold_folds": 2, "seed": 0}
    model = train(small_features, **options)
    level = model.metrics["stale_level"]
    inputs, y = training_data(small_features)
    train_rows, _ = holdout_split(small_features, "temporal", last_months=2, seed=0)
    assert level["training_rate"] == pytest.approx(y[train_rows].mean())
    assert level["recent_rate"] == pytest.approx(recent_rate(inputs.iloc[train_rows], y[train_rows]))
    assert level["served_rate"] == pytest.approx(recent_rate(inputs, y))
    # The served map and threshold are the training part's out-of-fold rows aimed at the served
    # rate; the holdout's, the same rows aimed at the training part's last weeks.
    config = TrainConfig(**options)
    scores: dict = {}
    fit_with_threshold(
        inputs.iloc[train_rows], y[train_rows], config, "static",
        stale_level=(level["training_rate"], level["training_rate"]), out_of_fold=scores,
    )  # fmt: skip
    rows = (scores["probability"], scores["y"], scores["knots"], level["training_rate"])
    expected, expected_threshold = aim_at_level(*rows, level["served_rate"])
    classifier = model.pipeline
    raw = np.linspace(0.0, 1.0, 501)
    np.testing.assert_allclose(
        calibrate(raw, classifier.calibration["stale"]), calibrate(raw, expected), atol=1e-9
    )
    assert classifier.thresholds["stale"] == pytest.approx(expected_threshold)
    recent = aim_at_level(*rows, level["recent_rate"])[1]
    assert model.metrics["thresholds"]["stale"] == pytest.approx(recent)
    assert level["served_rate"] != pytest.approx(level["recent_rate"])  # the two differ here
