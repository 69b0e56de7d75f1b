"""The minimal tier's stale switch: which tier answers a minimal record, by the history's age."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.data.calendar import day_numbers
from latam_airlines.features.transformers import FlightFeatures
from latam_airlines.models.feed_tiers import TieredClassifier, history_gap_days
from latam_airlines.models.pipelines import make_pipeline


def _day(month: int, day: int) -> float:
    return float(day_numbers(np.array([2017.0]), np.array([float(month)]), np.array([float(day)]))[0])


def test_history_gap_dates_a_record_without_a_day_at_its_months_next_occurrence() -> None:
    step = FlightFeatures("minimal", year=2017)
    step.outcomes_until_ = _day(10, 31)  # history ends 2017-10-31
    records = pd.DataFrame(
        {"MES": [11.0, 12.0, 3.0, 10.0, 11.0, np.nan], "DIA": [np.nan, np.nan, np.nan, np.nan, 20.0, np.nan]}
    )
    gap = history_gap_days(step, records)
    # November: Nov 1 is the day after; December: Dec 1; March: 2018-03-01; October (the history's
    # own month): the day after; a dated flight: its day; neither month nor day: unknown.
    np.testing.assert_array_equal(gap[:5], [1, 31, 121, 1, 20])
    assert np.isnan(gap[5])


@pytest.fixture(scope="module")
def january() -> tuple[pd.DataFrame, np.ndarray]:
    """Two airlines, four flights a day through January 2017; airline B is late from Jan 25 on."""
    days = np.repeat(np.arange(1.0, 32.0), 4)
    frame = pd.DataFrame(
        {"OPERA": np.tile(["A", "A", "B", "B"], 31), "TIPOVUELO": "N", "MES": 1.0, "DIA": days}
    )
    y = ((frame["OPERA"] == "B") & (frame["DIA"] > 24)).to_numpy().astype(int)
    y[::9] = 1  # some delays everywhere, so both classes are in every window
    return frame, y


def test_minimal_records_switch_to_the_stale_minimal_tier_beyond_the_switch(january) -> None:
    frame, y = january
    fed = make_pipeline("logreg", y, "minimal", "weight", seed=0).fit(frame, y)
    stale = make_pipeline("logreg", y, "minimal_stale", "weight", seed=0).fit(frame, y)
    tiers = TieredClassifier(
        minimal=fed,
        minimal_stale=stale,
        thresholds={"minimal": 0.3, "minimal_stale": 0.7},
        stale_after_days=7,
    )
    records = pd.DataFrame(
        {"OPERA": ["B"] * 5, "TIPOVUELO": "N", "MES": [2.0, 3.0, 2.0, 2.0, 1.0],
         "DIA": [np.nan, np.nan, 5.0, 10.0, np.nan]}
    )  # fmt: skip
    probability, threshold, tier = tiers.decide(records)
    # History ends Jan 31: February's first day is fresh, March 1 is 29 days on, Feb 10 is 10.
    assert tier.tolist() == ["minimal", "minimal_stale", "minimal", "minimal_stale", "minimal"]
    np.testing.assert_array_equal(threshold, [0.3, 0.7, 0.3, 0.7, 0.3])
    routed = tier == "minimal_stale"
    np.testing.assert_allclose(probability[routed], stale.predict_proba(records[routed])[:, 1])
    np.testing.assert_allclose(probability[~routed], fed.predict_proba(records[~routed])[:, 1])
    # The two tiers answer differently: B's last week is late, which only the 7-day windows see.
    assert fed.predict_proba(records)[0, 1] != pytest.approx(stale.predict_proba(records)[0, 1], abs=1e-4)
    # Feeding February makes March and Feb 10 fresh again; January now means January 2018.
    february = pd.DataFrame({"OPERA": "B", "TIPOVUELO": "N", "MES": 2.0, "DIA": np.arange(1.0, 29.0)})
    for pipeline in (fed, stale):
        pipeline.named_steps["features"].record_outcomes(february, np.zeros(len(february)))
    assert tiers.route(records).tolist() == ["minimal"] * 4 + ["minimal_stale"]


def test_without_a_stale_minimal_tier_every_minimal_record_goes_to_the_minimal_tier(january) -> None:
    frame, y = january
    fed = make_pipeline("logreg", y, "minimal", "weight", seed=0).fit(frame, y)
    tiers = TieredClassifier(minimal=fed, thresholds={"minimal": 0.3}, stale_after_days=7)
    records = pd.DataFrame({"OPERA": ["A"], "TIPOVUELO": ["N"], "MES": [6.0], "DIA": [np.nan]})
    assert tiers.route(records).tolist() == ["minimal"]
