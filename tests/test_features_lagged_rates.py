"""The stale tier's lagged rates (feature set `static_lagged`): windows as of a last fed day,
never a later one; ages drawn per training day, the real age when served."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.features.feature_sets import STALE_AGE_DAYS
from latam_airlines.features.transformers import FlightFeatures


def _flights(first: str, last: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Two flights a day (airline A to SCFA at 10:00, B to SAEZ at 18:00); A is late on odd
    days of the year, B on days divisible by 3: every window holds both classes."""
    days = pd.date_range(first, last, freq="D").repeat(2)
    frame = pd.DataFrame(
        {"OPERA": np.tile(["A", "B"], len(days) // 2), "TIPOVUELO": "N", "DIANOM": "Lunes",
         "periodo_dia": "mañana", "Des_I": np.tile(["SCFA", "SAEZ"], len(days) // 2),
         "HORA": np.tile([10.0, 18.0], len(days) // 2), "MIN": 0.0, "temporada_alta": 0.0,
         "AÑO": 2017.0, "MES": days.month.astype(float), "DIA": days.day.astype(float)}
    )  # fmt: skip
    day_of_year = days.day_of_year.to_numpy()
    y = np.where(frame["OPERA"] == "A", day_of_year % 2, (day_of_year % 3 == 0)).astype(int)
    return frame, y


def _by_hand(features: FlightFeatures, frame: pd.DataFrame, y: np.ndarray, end: np.ndarray, width: int):
    """SCL's smoothed delay rate over days end - width <= day < end, counted from (frame, y)."""
    days = features.flight_days(frame)
    inside = (days[None, :] >= (end - width)[:, None]) & (days[None, :] < end[:, None])
    m, prior = features.smoothing, features.prior_
    return (inside @ y + m * prior) / (inside.sum(axis=1) + m)


def test_training_rows_read_windows_ending_a_drawn_age_before_their_day() -> None:
    frame, y = _flights("2017-01-01", "2017-04-30")
    features = FlightFeatures("static_lagged")
    matrix = features.fit_transform(frame, y)
    names = list(features.get_feature_names_out())
    days = features.flight_days(frame)
    age = features.stale_ages(days, drawn=True)
    low, high = STALE_AGE_DAYS
    assert age.min() >= low and age.max() <= high and len(np.unique(age)) > 20
    # One age per day: both flights of a day agree (and a refit draws the same ages).
    assert (age[::2] == age[1::2]).all()
    np.testing.assert_array_equal(FlightFeatures("static_lagged").fit(frame, y).stale_ages(days, True), age)
    np.testing.assert_allclose(matrix[:, names.index("stale_age_30d")], age / 30, rtol=1e-6)
    # The window ends at the last fed day (day - age): by hand from the labels of earlier days.
    end = days - age + 1
    expected = _by_hand(features, frame, y, end, 28)
    np.testing.assert_allclose(matrix[:, names.index("lagged_rate[all;28d]")], expected, rtol=1e-5)
    # Never a later day: relabelling every day after a row's last fed day leaves it unchanged.
    row = int(np.flatnonzero(days == days.max())[0])
    later = days > end[row] - 1
    relabelled = y.copy()
    relabelled[later] = 1 - relabelled[later]
    again = FlightFeatures("static_lagged")
    again.fit(frame, relabelled)
    again.prior_ = features.prior_  # the prior is the only other thing the labels move
    rows = frame.iloc[[row]]
    column = names.index("lagged_rate[OPERA;90d]")
    again.draw_ages_ = True
    features.draw_ages_ = True
    assert again.transform(rows)[0, column] == pytest.approx(features.transform(rows)[0, column])


def test_served_rows_read_the_history_up_to_its_last_day_and_know_its_age() -> None:
    frame, y = _flights("2017-01-01", "2017-03-31")
    features = FlightFeatures("static_lagged").fit(frame, y)
    names = list(features.get_feature_names_out())
    rate, age = names.index("lagged_rate[all;28d]"), names.index("stale_age_30d")
    may_10 = frame.head(1).assign(MES=5.0, DIA=10.0)  # 40 days after the history's end (Mar 31)
    served = features.transform(may_10)[0]
    assert served[age] == pytest.approx(40 / 30)
    until = features.outcomes_until_
    expected = _by_hand(features, frame, y, np.array([until + 1]), 28)[0]  # Mar 4-31
    assert served[rate] == pytest.approx(expected)
    # Outcomes fed up to May 1 (a feed 8 days late): the windows follow, the age is 9.
    april, y_april = _flights("2017-04-01", "2017-05-01")
    features.record_outcomes(april, y_april)
    fed = features.transform(may_10)[0]
    assert fed[age] == pytest.approx(9 / 30)
    both = pd.concat([frame, april], ignore_index=True)
    everything = np.concatenate([y, y_april])
    assert fed[rate] == pytest.approx(_by_hand(features, both, everything, np.array([until + 32]), 28)[0])
    # The benchmark's "fed 7 days late": day - 7 is the first day it may not read (age 8).
    features.lag_days_ = 7
    assert features.transform(may_10.assign(DIA=5.0))[0, age] == pytest.approx(8 / 30)
