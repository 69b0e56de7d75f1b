"""Probabilities a user can trust: calibrated tiers, a sound minimal tier, fed vs stale regimes,
spelling-insensitive categories. Real SCL data, trained on samples."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import DelayModel, train
from latam_airlines.models.calibration import calibrate, fit_calibration
from latam_airlines.models.metrics import calibration_metrics, expected_calibration_error

pytestmark = pytest.mark.slow  # one training on a sample

MINIMAL = {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 7}


@pytest.fixture(scope="module")
def sampled_model(scl_features: pd.DataFrame) -> DelayModel:
    """xgb (60 trees: fast) on 12,000 flights, every other option from params.yaml; its
    holdout is Nov-Dec. refit_full=False: its history ends on October 31."""
    sample = scl_features.sample(12000, random_state=11).reset_index(drop=True)
    # stale_schedule: the stale tier also reads the planned-schedule counts (the option's test).
    return train(sample, model="xgb", params={"n_estimators": 60}, refit_full=False, stale_schedule=True)


def test_calibration_map_is_monotone_and_learns_observed_rates() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, len(raw)) < raw / 2).astype(int)  # inflated scores: true rate is raw / 2
    knots = fit_calibration(raw, y)
    grid = np.linspace(0, 1, 101)
    mapped = calibrate(grid, knots)
    assert np.all(np.diff(mapped) >= 0)
    assert mapped[50] == pytest.approx(0.25, abs=0.04)
    assert expected_calibration_error(y, calibrate(raw, knots)) < 0.02
    assert expected_calibration_error(y, raw) > 0.2


def test_base_rate_answer_has_zero_ece_and_the_base_rate_brier() -> None:
    y = np.array([0, 0, 0, 1] * 50)
    metrics = calibration_metrics(y, np.full(len(y), 0.25))
    assert metrics["ece"] == pytest.approx(0.0)
    assert metrics["brier"] == pytest.approx(metrics["brier_base_rate"]) == pytest.approx(0.1875)


def test_fed_probabilities_are_calibrated_on_the_holdout(sampled_model: DelayModel) -> None:
    holdout = sampled_model.metrics["holdout"]
    # Before calibration the mean prediction was 0.46 against 0.23 observed (balanced weights).
    assert abs(holdout["mean_probability"] - holdout["delay_rate"]) < 0.04
    assert holdout["brier"] < holdout["brier_base_rate"]
    assert holdout["ece"] < 0.05
    assert holdout["roc_auc"] > 0.64


@pytest.fixture(scope="module")
def logreg_sample(scl_features: pd.DataFrame) -> tuple[pd.DataFrame, DelayModel]:
    """The project's model (logreg, three folds for the thresholds) on 20,000 flights, refitted
    on every row; its holdout is Nov-Dec."""
    sample = scl_features.sample(20000, random_state=3).reset_index(drop=True)
    return sample, train(sample, model="logreg", threshold_folds=3)


def test_minimal_tier_flags_a_minority_and_beats_its_base_rate(logreg_sample) -> None:
    # The project's model: the minimal tier's 7-day windows were chosen for it (with xgb on a
    # 12,000-flight sample they are noise: ROC-AUC 0.55; reports/model_selection.md, seventh pass).
    minimal = logreg_sample[1].metrics["holdout_minimal_fields"]
    assert minimal["flagged_share"] <= 0.60  # was 92 % with the linear month
    assert minimal["brier"] <= minimal["brier_base_rate"] + 0.002
    assert minimal["roc_auc"] > 0.57


def test_minimal_month_is_a_category_not_a_trend(sampled_model: DelayModel) -> None:
    records = [{**MINIMAL, "MES": month} for month in range(1, 11)]
    probability = sampled_model.predict_proba(records)
    # A linear month rose 0.40 -> 0.58 from January to December; categories do not trend.
    assert probability.max() < 0.45
    assert not np.all(np.diff(probability) > 0)


def test_regime_follows_the_feed_state(sampled_model: DelayModel) -> None:
    model = copy.deepcopy(sampled_model)
    assert model.outcomes_until == "2017-10-31"  # refit_full=False: the test part was never fed
    state = model.feed_state()
    assert state["stale_after_days"] == 7 and state["stale_from"] == "2017-11-08"
    flights = [
        {**MINIMAL, "MES": 11, "Fecha-I": "2017-11-02 10:00:00", "Des-I": "SCFA"},
        {**MINIMAL, "MES": 11, "Fecha-I": "2017-11-20 10:00:00", "Des-I": "SCFA"},
        {**MINIMAL, "MES": 11},  # no day: dated Nov 1, the day after the history
        {**MINIMAL, "MES": 12},  # no day: Dec 1, 31 days on
        {**MINIMAL, "MES": 11, "Fecha-I": "2017-11-20 10:00:00"},  # no destination: minimal, dated
    ]
    probability, labels, regime = model.decide(flights)
    # Nov 20 is stale; its planned schedule is in the book (the holdout records the test part's).
    assert regime.tolist() == ["fed", "stale_schedule", "minimal", "minimal_stale", "minimal_stale"]
    thresholds = model.thresholds
    assert thresholds["minimal_stale"] != thresholds["minimal"]
    expected = [int(p >= thresholds[r]) for p, r in zip(probability, regime)]
    assert labels.tolist() == expected == model.predict(flights)
    tiers = model.pipeline
    prepared = model.prepare(flights[3:])
    raw = tiers.minimal_stale.predict_proba(prepared)[:, 1]
    np.testing.assert_allclose(probability[3:], calibrate(raw, tiers.calibration["minimal_stale"]))
    # Feeding November makes the late flights fresh again; December is still 12 days on.
    november = [
        {**MINIMAL, "MES": 11, "Fecha-I": f"2017-11-{day:02d} 09:00:00", "Des-I": "SCFA"}
        for day in range(1, 20)
    ]
    model.record_outcomes(november, np.zeros(len(november)))
    assert model.decide(flights)[2].tolist() == ["fed", "fed", "minimal", "minimal_stale", "minimal"]


def test_holdout_minimal_figures_switch_on_the_stale_days(sampled_model: DelayModel, scl_features) -> None:
    sample = scl_features.sample(12000, random_state=11)
    test = sample[sample["MES"] >= 11]
    fresh = int(((test["MES"] == 11) & (test["DIA"] <= 7)).sum())  # frozen at Oct 31, 7 days fresh
    frozen = sampled_model.metrics["holdout_minimal_fields_without_feed"]
    assert frozen["tiers"] == {"minimal": fresh, "minimal_stale": len(test) - fresh}
    assert sampled_model.metrics["holdout_minimal_fields"]["tiers"] == {"minimal": len(test)}


def test_stale_tier_reads_the_planned_schedule(sampled_model: DelayModel) -> None:
    model = copy.deepcopy(sampled_model)
    flights = [
        {**MINIMAL, "MES": 11, "Fecha-I": "2017-11-02 10:00:00", "Des-I": "SCFA"},
        {**MINIMAL, "MES": 11, "Fecha-I": "2017-11-20 10:00:00", "Des-I": "SCFA"},
    ]
    before, _, regime = model.decide(flights)
    assert regime.tolist() == ["fed", "stale_schedule"]  # Nov 20 is booked (the holdout's test part)
    # 120 more flights planned around the stale flight's hour: its day is busier than a Monday's norm.
    busy = [
        {**MINIMAL, "MES": 11, "Fecha-I": f"2017-11-20 {9 + i // 60:02d}:{i % 60:02d}:00", "Des-I": "SAEZ"}
        for i in range(120)
    ]
    assert model.record_schedule(busy) == 120
    after = model.decide(flights)[0]
    assert after[0] == before[0]  # the fed tier has no schedule counts
    assert after[1] != pytest.approx(before[1], abs=1e-6)
    model.record_schedule(busy)  # planned flights given again are counted once
    np.testing.assert_array_equal(model.decide(flights)[0], after)


def test_known_categories_match_whatever_their_case(sampled_model: DelayModel) -> None:
    canonical = [MINIMAL, {**MINIMAL, "Fecha-I": "2017-07-20 06:10:00", "Des-I": "SCFA"}]
    spelled = [
        {**MINIMAL, "OPERA": "grupo latam", "TIPOVUELO": "n"},
        {**MINIMAL, "OPERA": " GRUPO LATAM ", "Fecha-I": "2017-07-20 06:10:00", "Des-I": "scfa"},
    ]
    np.testing.assert_allclose(sampled_model.predict_proba(spelled), sampled_model.predict_proba(canonical))
    assert sampled_model.unknown_values(spelled) == []
    unknown = sampled_model.predict_proba([{**MINIMAL, "OPERA": "No Such Airline"}])[0]
    assert unknown < 0.5  # calibrated: an unknown airline gets a rate near the prior, not 0.61


def test_served_minimal_tier_is_calibrated_for_the_months_it_has_seen(logreg_sample) -> None:
    """The artifact (refitted on every month) answers a minimal record near the observed delay
    rate of its airline, type and month: its calibration is fitted with the months seen, as
    served, not with whole months held out (that put Grupo LATAM I in July at 0.69, observed 0.35).
    Its history ends on Dec 31: January is the minimal tier, February-December minimal_stale."""
    sample, model = logreg_sample
    group = sample[(sample["OPERA"] == "Grupo LATAM") & (sample["TIPOVUELO"] == "I")]
    observed = group.groupby("MES")["atraso_15"].mean()
    predicted = model.predict_proba(
        [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": int(m)} for m in observed.index]
    )
    assert np.abs(predicted - observed.to_numpy()).max() < 0.08, dict(zip(observed.index, predicted.round(3)))
