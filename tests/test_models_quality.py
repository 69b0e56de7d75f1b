"""Model quality on the real SCL data: the floors the challenge sets, on the full table (the
protocol's honesty: tests/test_models_holdout_protocol.py, a file of its own so that pytest-xdist's
`--dist loadfile` can run the two sets of full-table fits on different workers)."""

from __future__ import annotations

import pandas as pd
import pytest

from latam_airlines.models import TrainConfig, holdout_evaluation, train
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
    # Measured: 0.705 vs 0.582 and F1 0.453 (issue target: +0.10 and 0.45); floors leave a margin
    # for numeric differences between platforms and library versions.
    assert chosen_auc > reference_auc + 0.10
    assert chosen.model.metrics["holdout"]["f1_delayed"] > 0.44
    # Without the daily outcome feed the recent rates freeze at October's end: still better.
    assert chosen.model.metrics["holdout_without_feed"]["roc_auc"] > reference_auc + 0.08
