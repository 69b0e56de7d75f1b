"""The holdout protocol's honesty on real SCL data: the test months stay out of training, the
threshold is chosen without the test labels, fed outcomes reach only later days (the quality
floors: tests/test_models_quality.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import TrainConfig, holdout_evaluation
from latam_airlines.models.splits import holdout_split

pytestmark = pytest.mark.slow  # trains on samples of the full table


def test_temporal_split_keeps_test_months_out_of_training(scl_features: pd.DataFrame) -> None:
    train_rows, test_rows = holdout_split(scl_features, "temporal", (11, 12))
    assert set(scl_features["MES"].iloc[train_rows]) == set(range(1, 11))
    assert set(scl_features["MES"].iloc[test_rows]) == {11, 12}
    assert len(train_rows) + len(test_rows) == len(scl_features)


def test_threshold_is_chosen_without_the_test_labels(scl_features: pd.DataFrame) -> None:
    sample = scl_features.sample(8000, random_state=1).reset_index(drop=True)
    config = TrainConfig(model="reference")
    _, test_rows = holdout_split(sample, "temporal", (11, 12))
    flipped = sample.copy()
    flipped.loc[test_rows, "atraso_15"] = 1 - flipped.loc[test_rows, "atraso_15"]
    original = holdout_evaluation(sample, config)
    relabelled = holdout_evaluation(flipped, config)
    # Same threshold and same test probabilities: nothing was fitted on the test part.
    assert original.model.threshold == relabelled.model.threshold
    np.testing.assert_allclose(original.probability, relabelled.probability)
    assert original.model.metrics["holdout"]["roc_auc"] != relabelled.model.metrics["holdout"]["roc_auc"]


def test_fed_outcomes_reach_only_later_days(scl_features: pd.DataFrame) -> None:
    sample = scl_features.sample(20000, random_state=2).reset_index(drop=True)
    # Two threshold folds, not the default five: the claim is about which days' outcomes reach a
    # flight's recent rates, which no fold count changes (calibration and thresholds are fitted
    # on the training part, identical in both runs); half the fits (reports/test_durations.md).
    config = TrainConfig(model="logreg", features="full", threshold_folds=2)
    _, test_rows = holdout_split(sample, "temporal", (11, 12))
    day = sample["MES"].to_numpy() * 100 + sample["DIA"].to_numpy()
    flip = test_rows[day[test_rows] >= 1215]  # relabel the test part from December 15 on
    flipped = sample.copy()
    flipped.loc[flip, "atraso_15"] = 1 - flipped.loc[flip, "atraso_15"]
    original = holdout_evaluation(sample, config)
    relabelled = holdout_evaluation(flipped, config)
    test_day = day[test_rows]
    # Up to December 15 nothing moves (a day's own outcomes never count); afterwards it does.
    up_to = test_day <= 1215
    np.testing.assert_allclose(original.probability[up_to], relabelled.probability[up_to])
    assert not np.allclose(original.probability[~up_to], relabelled.probability[~up_to])
    np.testing.assert_allclose(original.frozen_probability, relabelled.frozen_probability)
