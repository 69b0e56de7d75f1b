"""Model quality on the real SCL data: floors the challenge sets, and the protocol's honesty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import TrainConfig, holdout_evaluation, train
from latam_airlines.models.splits import holdout_split
from latam_airlines.settings import load_settings

pytestmark = pytest.mark.slow  # trains on the full table


@pytest.fixture(scope="module")
def reference_random(scl_features: pd.DataFrame):
    return train(scl_features, model="reference", split="random", refit_full=False)


def test_reference_model_clears_the_challenge_floors(reference_random) -> None:
    holdout = reference_random.metrics["holdout"]
    # The challenge asked for recall > 0.60 on the delayed class; F1 > 0.30 keeps precision honest.
    assert holdout["recall_delayed"] > 0.60
    assert holdout["f1_delayed"] > 0.30
    assert 0.60 < holdout["roc_auc"] < 0.70  # the measured reference: ~0.65 on a random split


def test_chosen_model_beats_reference_on_the_temporal_holdout(scl_features: pd.DataFrame) -> None:
    settings = load_settings().train  # the model params.yaml deploys (reports/model_selection.md)
    chosen = holdout_evaluation(scl_features, TrainConfig(model=settings.model, features=settings.features))
    reference = holdout_evaluation(scl_features, TrainConfig(model="reference"))
    chosen_auc = chosen.model.metrics["holdout"]["roc_auc"]
    reference_auc = reference.model.metrics["holdout"]["roc_auc"]
    # Measured: 0.700 vs 0.582 and F1 0.451 (issue target: +0.10 and 0.45); floors leave a margin
    # for numeric differences between platforms and library versions.
    assert chosen_auc > reference_auc + 0.10
    assert chosen.model.metrics["holdout"]["f1_delayed"] > 0.44
    # Without the daily outcome feed the recent rates freeze at October's end: still better.
    assert chosen.model.metrics["holdout_without_feed"]["roc_auc"] > reference_auc + 0.08


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
    config = TrainConfig(model="logreg", features="full")
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
