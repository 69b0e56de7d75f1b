"""`train.stale_schedule`: once the outcome feed stopped, the stale tier with planned-schedule
counts answers only flights whose day is in the model's schedule book; an unbooked day gets the
plain stale tier, exactly what a model trained without the option answers."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import DelayModel, load_model, train
from latam_airlines.models.calibration import calibrate

pytestmark = pytest.mark.slow  # a training on 5,000 flights (and the shared small model)

BOOKED_DAY = "2018-01-20"  # the history ends 2017-12-31: more than 7 days on, stale
UNBOOKED_DAY = "2018-01-21"
FLIGHTS = [
    {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 1, "Des-I": "SCFA", "Fecha-I": "{day} 08:10:00"},
    {"OPERA": "Sky Airline", "TIPOVUELO": "N", "MES": 1, "Des-I": "SCIE", "Fecha-I": "{day} 19:40:00"},
    {"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 1, "Des-I": "SPJC", "Fecha-I": "{day} 23:05:00"},
]


def flights_of(day: str) -> list[dict]:
    return [{**flight, "Fecha-I": flight["Fecha-I"].format(day=day)} for flight in FLIGHTS]


@pytest.fixture(scope="module")
def models(small_features: pd.DataFrame, api_model_path: Path) -> tuple[DelayModel, DelayModel]:
    """(without, with) the option: xgb, 40 trees, two threshold folds, refitted on every row.
    With it, that is the run's shared small model (conftest `api_model_path`: the same call
    with params.yaml's stale_schedule, true), loaded: one fit fewer."""
    options = {"model": "xgb", "params": {"n_estimators": 40}, "threshold_folds": 2}
    return train(small_features, stale_schedule=False, **options), load_model(api_model_path)


def test_unbooked_stale_days_get_the_plain_stale_tier(models) -> None:
    without, with_option = models
    assert without.pipeline.stale_schedule is None
    assert with_option.pipeline.stale_schedule is not None
    unbooked = flights_of(UNBOOKED_DAY)
    probability, labels, regime = with_option.decide(unbooked)
    assert regime.tolist() == ["stale"] * len(unbooked)
    plain_probability, plain_labels, plain_regime = without.decide(unbooked)
    np.testing.assert_allclose(probability, plain_probability, atol=1e-12)
    assert labels.tolist() == plain_labels.tolist() and plain_regime.tolist() == regime.tolist()


def test_booked_stale_days_get_the_tier_with_the_counts(models) -> None:
    model = copy.deepcopy(models[1])
    booked, unbooked = flights_of(BOOKED_DAY), flights_of(UNBOOKED_DAY)
    planned = booked + [  # a busy morning besides the probes
        {**FLIGHTS[0], "Des-I": "SCTE", "Fecha-I": f"{BOOKED_DAY} 07:{minute:02d}:00"}
        for minute in range(0, 60, 2)
    ]
    assert model.record_schedule(planned) == len(planned)
    probability, labels, regime = model.decide(booked + unbooked)
    assert regime.tolist() == ["stale_schedule"] * len(booked) + ["stale"] * len(unbooked)
    tiers = model.pipeline
    raw = tiers.stale_schedule.predict_proba(model.prepare(booked))[:, 1]
    np.testing.assert_allclose(
        probability[: len(booked)], calibrate(raw, tiers.calibration["stale_schedule"])
    )
    thresholds = model.thresholds
    assert set(thresholds) == {"fed", "stale", "stale_schedule", "minimal", "minimal_stale"}
    assert labels.tolist() == [int(p >= thresholds[r]) for p, r in zip(probability, regime)]
    # The unbooked day is answered as before the feed, by the plain stale tier.
    np.testing.assert_allclose(probability[len(booked) :], models[1].predict_proba(unbooked))
    assert "stale_schedule" in model.metadata["feed"]["regimes"]


def test_the_holdout_books_its_test_days(models, small_features: pd.DataFrame) -> None:
    """The holdout records the test part's planned schedule (published ahead): its frozen stale
    days are answered by the tier with the counts, and both stale tiers aim at the same level."""
    test = small_features[small_features["MES"] >= 11]
    fresh = int(((test["MES"] == 11) & (test["DIA"] <= 7)).sum())  # frozen at Oct 31, 7 days fresh
    frozen = models[1].metrics["holdout_without_feed"]
    assert frozen["tiers"] == {"full": fresh, "stale_schedule": len(test) - fresh}
    assert models[0].metrics["holdout_without_feed"]["tiers"] == {"full": fresh, "stale": len(test) - fresh}
    assert set(models[1].metrics["thresholds"]) >= {"stale", "stale_schedule"}
