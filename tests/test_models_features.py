"""Engineered features: the same mapping as build_features, no label leakage while fitting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.data.calendar import HOLIDAY_FEATURES, day_numbers, holiday_calendar, holiday_features
from latam_airlines.features import build_features
from latam_airlines.features.canonical import canonical_flights
from latam_airlines.features.transformers import FlightFeatures


def test_raw_records_map_like_build_features(scl_raw: pd.DataFrame, scl_interim: pd.DataFrame) -> None:
    processed = build_features(scl_interim)
    raw_fields = scl_interim[["Fecha-I", "Des-I", "OPERA", "TIPOVUELO"]].copy()
    raw_fields["Fecha-I"] = raw_fields["Fecha-I"].dt.strftime("%Y-%m-%d %H:%M:%S")
    from_records = canonical_flights(raw_fields.astype(object).to_dict("records"))
    for field in ("MES", "DIA", "HORA", "MIN", "temporada_alta"):
        np.testing.assert_array_equal(from_records[field].to_numpy(), processed[field].to_numpy(dtype=float))
    for field in ("DIANOM", "periodo_dia", "Des_I", "OPERA"):
        assert from_records[field].tolist() == processed[field].astype(str).tolist(), field


def test_minimal_record_derives_what_it_can() -> None:
    frame = canonical_flights([{"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 7, "DIA": 20}], year=2017)
    assert frame.loc[0, "DIANOM"] == "Jueves"  # 2017-07-20
    assert frame.loc[0, "temporada_alta"] == 1.0  # Jul 15-31
    assert np.isnan(frame.loc[0, "HORA"]) and frame.loc[0, "Des_I"] is None


def test_history_rates_never_use_a_rows_own_label() -> None:
    # Every destination appears once: an in-sample rate would reveal the label exactly.
    frame = pd.DataFrame(
        {"OPERA": "A", "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "tarde",
         "Des_I": [f"D{i}" for i in range(200)], "HORA": 10.0, "MIN": 0.0, "temporada_alta": 0.0}
    )  # fmt: skip
    y = np.tile([0, 1], 100)
    features = FlightFeatures("history", smoothing=1.0)
    matrix = features.fit_transform(frame, y)
    names = list(features.get_feature_names_out())
    destination_rate = matrix[:, names.index("delay_rate[Des_I]")]
    # Out of fold, a destination is unseen, so every row gets the prior: nothing of its label.
    np.testing.assert_allclose(destination_rate, features.prior_, rtol=1e-6)
    in_sample = features.transform(frame)[:, names.index("delay_rate[Des_I]")]
    assert np.corrcoef(in_sample, y)[0, 1] > 0.9  # what a leaky fit would have given


def test_unknown_categories_become_missing_codes_and_prior_rates() -> None:
    frame = pd.DataFrame({"OPERA": ["A", "B"] * 20, "TIPOVUELO": "N", "MES": 3.0})
    features = FlightFeatures("minimal").fit(frame, np.tile([0, 1], 20))
    unseen = features.transform(pd.DataFrame({"OPERA": ["Z"], "TIPOVUELO": ["N"], "MES": [3.0]}))
    names = list(features.get_feature_names_out())
    assert np.isnan(unseen[0, names.index("OPERA")])
    assert unseen[0, names.index("delay_rate[OPERA]")] == features.prior_


def test_minimal_record_without_a_day_reads_the_last_four_recorded_weeks() -> None:
    # One flight a day, January 1-31: on time for three weeks and three days, then delayed daily.
    frame = pd.DataFrame({"OPERA": "A", "TIPOVUELO": "N", "MES": 1.0, "DIA": np.arange(1.0, 32.0)})
    y = (frame["DIA"] > 24).to_numpy().astype(int)
    features = FlightFeatures("minimal").fit(frame, y)
    names = list(features.get_feature_names_out())
    record = features.transform(pd.DataFrame({"OPERA": ["A"], "TIPOVUELO": ["N"], "MES": [2.0]}))[0]
    prior, m = features.prior_, features.smoothing
    # No day in the record: the window is January 4-31, the last 28 recorded days (7 delayed).
    expected = (7 + m * prior) / (28 + m)
    assert record[names.index("recent_rate[OPERA;28d]")] == pytest.approx(expected)
    assert record[names.index("recent_rate[all;28d]")] == pytest.approx(expected)


def test_holiday_features_follow_the_chilean_calendar() -> None:
    # 2017: Sep 18-19 Fiestas Patrias (Mon-Tue), Dec 25 Christmas (Mon), Jul 5 an ordinary Wednesday.
    month = np.array([9.0, 9.0, 9.0, 12.0, 7.0, np.nan])
    day = np.array([17.0, 18.0, 20.0, 24.0, 5.0, 1.0])
    days = day_numbers(np.full(6, 2017.0), month, day)
    table = holiday_features(days, holiday_calendar([2017]))
    feature = {name: table[:, i] for i, name in enumerate(HOLIDAY_FEATURES)}
    np.testing.assert_array_equal(feature["holiday"], [0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(feature["holiday_eve"], [1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(feature["holiday_after"], [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(feature["long_weekend"], [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(feature["day_off"], [1, 1, 0, 1, 0, 0])  # Sep 17 and Dec 24: Sundays
    assert feature["days_to_holiday"][4] == 10  # capped: Jul 16 is 11 days away
    assert feature["days_since_holiday"][2] == 1 and feature["days_to_holiday"][1] == 0


def test_full_features_score_one_record_with_its_holiday_columns() -> None:
    frame = pd.DataFrame(
        {"OPERA": ["A", "B"] * 20, "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "tarde",
         "Des_I": "SCFA", "HORA": 10.0, "MIN": 0.0, "temporada_alta": 0.0, "MES": 9.0, "DIA": 18.0}
    )  # fmt: skip
    features = FlightFeatures("static").fit(frame, np.tile([0, 1], 20))
    names = list(features.get_feature_names_out())
    row = features.transform(frame.head(1))
    first = names.index(HOLIDAY_FEATURES[0])
    assert row.shape == (1, len(names)) and names[first : first + len(HOLIDAY_FEATURES)] == HOLIDAY_FEATURES
    assert row[0, names.index("holiday")] == 1.0


def test_holidays_follow_each_rows_year() -> None:
    # 2013-07-04 is no Chilean holiday; 2017-06-26 (San Pedro y San Pablo, moved to Monday) is,
    # and 2013-06-29 (the same holiday, not moved that year: a Saturday) is too.
    frame = pd.DataFrame({"AÑO": [2017.0, 2013.0, 2013.0], "MES": [6.0, 6.0, 7.0], "DIA": [26.0, 29.0, 4.0]})
    features = FlightFeatures("static", year=2017)
    holiday = holiday_features(features.flight_days(frame), holiday_calendar([2013, 2017]))[:, 0]
    np.testing.assert_array_equal(holiday, [1, 1, 0])


def _daily_flights(days: int, delayed_from: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Two flights a day in January 2017 (airline A to SCFA, 10:00); delayed from a given day."""
    frame = pd.DataFrame(
        {"OPERA": "A", "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "mañana", "Des_I": "SCFA",
         "HORA": 10.0, "MIN": 0.0, "temporada_alta": 0.0, "AÑO": 2017.0, "MES": 1.0,
         "DIA": np.repeat(np.arange(1, days + 1), 2).astype(float)}
    )  # fmt: skip
    return frame, (frame["DIA"].to_numpy() >= delayed_from).astype(int)


def test_recent_rates_see_only_earlier_days_and_follow_fed_outcomes() -> None:
    frame, y = _daily_flights(20, delayed_from=11)  # on time Jan 1-10, delayed Jan 11-20
    features = FlightFeatures("full").fit(frame, y)
    names = list(features.get_feature_names_out())
    column = names.index("recent_rate[all;7d]")
    rates = features.transform(frame)[:, column]
    by_day = dict(zip(frame["DIA"], rates))
    prior, m = features.prior_, features.smoothing
    assert by_day[1] == pytest.approx(prior)  # nothing before Jan 1
    assert by_day[11] == pytest.approx(m * prior / (14 + m))  # Jan 4-10: 14 on-time flights
    assert by_day[12] == pytest.approx((2 + m * prior) / (14 + m))  # its own day never counts
    # A later day slides back to the last recorded one (Jan 14-20: all delayed)...
    later = frame.head(1).assign(DIA=28.0)
    stale = features.transform(later)[0, column]
    assert stale == pytest.approx((14 + m * prior) / (14 + m))
    # ...until outcomes of Jan 21-27 arrive (all on time), fed twice: a day replaces itself.
    fresh, _ = _daily_flights(27, delayed_from=99)
    fresh = fresh[fresh["DIA"] > 20]
    for _ in range(2):
        assert features.record_outcomes(fresh, np.zeros(len(fresh))) == 14
    assert features.transform(later)[0, column] == pytest.approx(m * prior / (14 + m))


def test_last_day_share_reads_the_keys_latest_earlier_day_only() -> None:
    # One flight a day of airline A to SCFA at 10:00 on Jan 1, 2, 3 and 11.
    frame = _daily_flights(11, delayed_from=99)[0].drop_duplicates("DIA")
    frame = frame[frame["DIA"].isin([1, 2, 3, 11])].reset_index(drop=True)
    y = np.array([1, 0, 1, 0])
    features = FlightFeatures("full").fit(frame, y)
    names = list(features.get_feature_names_out())
    rate = names.index("last_day_rate[OPERA,Des_I,HORA,MIN]")
    flown = names.index("last_day_flown[OPERA,Des_I,HORA,MIN]")
    matrix = features.transform(frame)
    prior = features.prior_
    # Jan 1: nothing before; Jan 2 and 3: the day before, unsmoothed; Jan 11: Jan 3 is 8 days
    # back, beyond LAST_DAY_MAX_AGE (7), so the prior.
    np.testing.assert_allclose(matrix[:, rate], [prior, 1.0, 0.0, prior])
    np.testing.assert_array_equal(matrix[:, flown], [0, 1, 1, 0])
    # The route and airline-hour keys read the same days here (one flight a day).
    np.testing.assert_allclose(matrix[:, names.index("last_day_rate[OPERA,Des_I]")], [prior, 1.0, 0.0, prior])
    # A flight never reads its own day or a later one: relabel Jan 2 and Jan 3 (same prior).
    relabelled = FlightFeatures("full").fit(frame, np.array([1, 1, 0, 0]))
    again = relabelled.transform(frame)
    np.testing.assert_allclose(again[:2, rate], matrix[:2, rate])
    assert again[2, rate] == 1.0  # Jan 3 reads the relabelled Jan 2
    # Fed outcomes extend it; a later flight past the history's end slides back to its last day.
    jan_12 = frame.tail(1).assign(DIA=12.0)
    assert features.transform(jan_12)[0, rate] == 0.0  # Jan 11, on time
    features.record_outcomes(jan_12, np.array([1]))
    assert features.transform(jan_12.assign(DIA=13.0))[0, rate] == 1.0
    assert features.transform(jan_12.assign(DIA=25.0))[0, rate] == 1.0  # stale: reads Jan 12
    # An unknown airline has no history: the prior, not flown.
    unknown = features.transform(jan_12.assign(DIA=13.0, OPERA="Z"))[0]
    assert (unknown[rate], unknown[flown]) == (pytest.approx(prior), 0.0)


def test_outcome_history_latest_day_within_max_age() -> None:
    from latam_airlines.features.outcome_history import OutcomeHistory

    history = OutcomeHistory()
    history.record(
        np.array([0, 0, 1, 1]),
        np.array([10.0, 12.0, 5.0, 12.0]),
        np.array([1, 0, 2, 1]),
        np.array([1, 3, 2, 4]),
    )
    keys = np.array([0, 0, 0, 1, 1, 2, -1])
    end = np.array([13, 12, 30, 12, 13, 13, 13])
    delayed, flights = history.latest(keys, end, 7)
    # key 0 before day 13: day 12 (0 of 3); before day 12: day 10 (1 of 1); before day 30: day
    # 12 is 18 days back (too old); key 1 before 12: day 5 (7 back); key 2 and -1: none.
    np.testing.assert_array_equal(flights, [3, 1, 0, 2, 4, 0, 0])
    np.testing.assert_array_equal(delayed, [0, 1, 0, 2, 1, 0, 0])
    empty = OutcomeHistory().latest(keys, end, 7)
    assert not empty[0].any() and not empty[1].any()


def _histories(features: FlightFeatures) -> dict:
    return {
        key: (h.composite.tolist(), h.delayed.tolist(), h.flights.tolist())
        for key, h in features.outcomes_.items()
    }


@pytest.fixture(scope="module")
def october_and_november(
    scl_features: pd.DataFrame,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    """Canonical October flights (to fit on) and November 1 (to feed), real SCL rows."""
    from latam_airlines.models.training_data import training_data

    inputs, y = training_data(scl_features)
    october = (inputs["MES"] == 10).to_numpy()
    first = ((inputs["MES"] == 11) & (inputs["DIA"] == 1)).to_numpy()
    return inputs[october], y[october], inputs[first], y[first]


def test_feeding_a_day_in_two_batches_equals_feeding_it_whole(october_and_november) -> None:
    october, y_october, day, y_day = october_and_november
    whole = FlightFeatures("full").fit(october, y_october)
    halves = FlightFeatures("full").fit(october, y_october)
    assert whole.record_outcomes(day, y_day) == len(day) == 194
    morning = (day["HORA"] < 13).to_numpy()  # intraday: the morning first, the rest later
    halves.record_outcomes(day[morning], y_day[morning])
    halves.record_outcomes(day[~morning], y_day[~morning])
    assert _histories(halves) == _histories(whole)
    scl = halves.outcomes_[()]  # every flight of the day, none replaced by the second batch
    assert scl.flights[scl.days == int(halves.outcomes_until_)].sum() == 194


def test_refeeding_a_flight_is_idempotent_and_corrections_replace(october_and_november) -> None:
    october, y_october, day, y_day = october_and_november
    features = FlightFeatures("full").fit(october, y_october)
    features.record_outcomes(day, y_day)
    once = _histories(features)
    features.record_outcomes(day.iloc[:50], y_day[:50])  # the same flights again
    assert _histories(features) == once
    corrected = y_day.copy()
    corrected[:10] = 1 - corrected[:10]
    features.record_outcomes(day.iloc[:10], corrected[:10])  # ten outcomes corrected
    reference = FlightFeatures("full").fit(october, y_october)
    reference.record_outcomes(day, corrected)
    assert _histories(features) == _histories(reference)


def test_intraday_rates_count_same_day_flights_scheduled_an_hour_before() -> None:
    hours = np.array([8.0, 9.0, 9.5, 10.0, 11.0])
    frame = pd.DataFrame(
        {"OPERA": "A", "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "mañana", "Des_I": "SCFA",
         "HORA": np.floor(hours), "MIN": (hours % 1) * 60, "temporada_alta": 0.0, "AÑO": 2017.0,
         "MES": 1.0, "DIA": 2.0}
    )  # fmt: skip
    y = np.array([1, 1, 0, 0, 0])
    features = FlightFeatures("intraday").fit(frame, y)
    column = list(features.get_feature_names_out()).index("same_day_rate[all]")
    rates = features.transform(frame)[:, column]
    prior, m = features.prior_, features.smoothing
    assert rates[0] == pytest.approx(prior)  # nothing an hour before 08:00
    assert rates[2] == pytest.approx((1 + m * prior) / (1 + m))  # 09:30 sees 08:00 only
    assert rates[3] == pytest.approx((2 + m * prior) / (2 + m))  # 10:00 sees 08:00 and 09:00
    # A new day's flight sees nothing until that day's first departures are fed.
    next_day = frame.assign(DIA=3.0)
    assert features.transform(next_day.tail(1))[0, column] == pytest.approx(prior)
    features.record_outcomes(next_day.head(2), np.array([1, 1]))
    assert features.transform(next_day.tail(1))[0, column] == pytest.approx((2 + m * prior) / (2 + m))


def test_intraday_windows_count_only_the_last_hours_before_the_cut_off() -> None:
    hours = np.array([8.0, 9.0, 11.0, 14.0])
    frame = pd.DataFrame(
        {"OPERA": "A", "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "mañana", "Des_I": "SCFA",
         "HORA": hours, "MIN": 0.0, "temporada_alta": 0.0, "AÑO": 2017.0, "MES": 1.0, "DIA": 2.0}
    )  # fmt: skip
    y = np.array([1, 1, 0, 0])
    features = FlightFeatures("intraday").fit(frame, y)
    names = list(features.get_feature_names_out())
    matrix = features.transform(frame)
    whole_day, last_3h = (
        matrix[:, names.index("same_day_rate[all]")],
        matrix[:, names.index("same_day_rate[all;180min]")],
    )
    prior, m = features.prior_, features.smoothing
    # 14:00 counts flights scheduled before 13:01: the whole day 08:00, 09:00, 11:00 (2 of 3
    # delayed), the 3-hour window only 11:00 (on time).
    assert whole_day[3] == pytest.approx((2 + m * prior) / (3 + m))
    assert last_3h[3] == pytest.approx((0 + m * prior) / (1 + m))
    # 11:00: the window (07:01-10:01) starts before the day's flights, so both agree.
    assert last_3h[2] == pytest.approx(whole_day[2]) == pytest.approx((2 + m * prior) / (2 + m))
    assert names.index("same_day_rate[OPERA;180min]") == names.index("same_day_rate[all;180min]") + 1


def _scheduled(day: float, times: list[float], airlines: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"OPERA": airlines, "TIPOVUELO": "N", "DIANOM": "Lunes", "periodo_dia": "mañana", "Des_I": "SCFA",
         "HORA": np.floor(times), "MIN": np.round(np.asarray(times) % 1 * 60), "temporada_alta": 0.0,
         "AÑO": 2017.0, "MES": 1.0, "DIA": day}
    )  # fmt: skip


def test_schedule_counts_equal_hand_counts_against_the_weekday_norm() -> None:
    # Monday Jan 2: 08:00, 08:30, 09:10 (airline A) and 11:00 (B); Monday Jan 9: 08:00, 12:00 (A).
    frame = pd.concat(
        [_scheduled(2.0, [8.0, 8.5, 9 + 1 / 6, 11.0], ["A", "A", "A", "B"]),
         _scheduled(9.0, [8.0, 12.0], ["A", "A"])], ignore_index=True,
    )  # fmt: skip
    y = np.array([1, 0, 0, 1, 0, 0])
    features = FlightFeatures("full_schedule").fit(frame, y)
    names = list(features.get_feature_names_out())
    counts, _ = features._schedule_counts(frame, {f: features._codes(frame, f) for f in features.vocabulary_})
    items = [name[len("scheduled_vs_norm[") : -1] for name in names if name.startswith("scheduled_vs_norm")]
    by_name = dict(zip(items, counts.T))
    np.testing.assert_array_equal(by_name["all;day"], [4, 4, 4, 4, 2, 2])
    np.testing.assert_array_equal(by_name["all;hour"], [2, 2, 1, 1, 1, 1])
    # +-60 min, itself included: 08:00 sees 08:00-08:30, 08:30 all three, 09:10 08:30-09:10
    np.testing.assert_array_equal(by_name["all;around"], [2, 3, 2, 1, 1, 1])
    np.testing.assert_array_equal(by_name["OPERA;day"], [3, 3, 3, 1, 2, 2])
    # The norm of "all;day" on Mondays: the mean over Monday flights, (4 * 4 + 2 * 2) / 6.
    column = names.index("scheduled_vs_norm[all;day]")
    values = features.transform(frame)[:, column]
    norm = (4 * 4 + 2 * 2) / 6
    np.testing.assert_allclose(values, np.log(np.array([5, 5, 5, 5, 3, 3]) / (norm + 1)), rtol=1e-6)
    # A day absent from the book reads 0 (a typical day) until its schedule is recorded, once.
    later = _scheduled(16.0, [8.0], ["A"])
    assert features.transform(later)[0, column] == 0
    for _ in range(2):
        assert features.record_schedule(later) == 1
        assert features.transform(later)[0, column] == pytest.approx(np.log(2 / (norm + 1)))


def test_schedule_counts_read_no_outcome() -> None:
    frame = pd.concat(
        [_scheduled(float(day), [8.0, 8.5, 13.0][: day // 7 + 1], ["A", "B", "A"][: day // 7 + 1])
         for day in (2, 9, 16)], ignore_index=True,
    )  # fmt: skip
    y = np.array([1, 0, 1, 1, 0, 0])
    names = list(FlightFeatures("static_schedule").fit(frame, y).get_feature_names_out())
    columns = [i for i, name in enumerate(names) if name.startswith("scheduled_vs_norm")]
    assert len(columns) == 5
    first = FlightFeatures("static_schedule").fit(frame, y).transform(frame)[:, columns]
    flipped = FlightFeatures("static_schedule").fit(frame, 1 - y).transform(frame)[:, columns]
    np.testing.assert_array_equal(first, flipped)
    assert np.abs(first).sum() > 0


def test_times_with_an_offset_or_fraction_are_read_as_santiago_local_time():

    base = {"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 1}
    spellings = [
        "2017-01-01 23:30:00",
        "2017-01-01T23:30:00-03:00",
        "2017-01-02T02:30:00Z",
        "2017-01-01 23:30:00.5",
    ]
    canonical = canonical_flights([{**base, "Fecha-I": text} for text in spellings])
    fields = canonical[["MES", "DIA", "HORA", "MIN", "DIANOM", "periodo_dia"]].astype(str)
    assert (fields == fields.iloc[0]).all().all()
    assert fields.iloc[0].tolist() == ["1.0", "1.0", "23.0", "30.0", "Domingo", "noche"]


def test_time_of_day_spline_is_periodic_with_hand_values() -> None:
    # Cubic B-splines on uniform knots (9 knots over 24 h: one every 3 h) are 1/6, 2/3, 1/6 on
    # the three splines around a knot and sum to 1 everywhere; periodic, 23:59 is next to 00:00.
    frame, y = _daily_flights(10, delayed_from=6)
    times = [(0, 0), (23, 59), (6, 0), (12, 0), (13, 30), (24, 0), (0, 0.5)]
    sample = (
        pd.concat([frame.head(4)] * 2)
        .head(len(times))
        .assign(
            HORA=[float(h) for h, _ in times],
            MIN=[float(m) for _, m in times],
            TIPOVUELO=["N", "I", "I", "N", "I", "N", "N"],
        )
    )
    features = FlightFeatures("full").fit(frame, y)
    names = list(features.get_feature_names_out())
    splines = [n for n in names if n.startswith("time_of_day_spline") and "*" not in n]
    assert len(splines) == 8  # periodic: one spline per knot interval
    matrix = features.transform(sample).astype(float)
    basis = matrix[:, [names.index(n) for n in splines]]
    midnight, before_midnight, six, noon, half_past_one, next_midnight, half_a_minute = basis
    np.testing.assert_allclose(basis.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(sorted(midnight)[-3:], [1 / 6, 1 / 6, 2 / 3], rtol=1e-6)
    assert np.count_nonzero(midnight > 1e-9) == 3
    np.testing.assert_allclose(six, np.roll(midnight, 2), atol=1e-6)  # 2 knot intervals later
    np.testing.assert_allclose(noon, np.roll(midnight, 4), atol=1e-6)
    # Slope of a B-spline at a knot: 1 / (2 h) per day with h = 1/8 day, so one minute moves
    # each value by 4 / 1440 = 0.0028; far from noon's.
    np.testing.assert_allclose(before_midnight, midnight, atol=0.003)
    assert np.abs(before_midnight - noon).max() > 0.5
    # 13:30 = 4.5 knot intervals: the two middle splines meet at 23/48 (midway between knots).
    assert sorted(half_past_one)[-2:] == pytest.approx([23 / 48, 23 / 48], rel=1e-5)
    # Times off the whole-minute table go through the spline itself: 24:00 is 00:00 again.
    np.testing.assert_allclose(next_midnight, midnight, atol=1e-6)
    np.testing.assert_allclose(half_a_minute, midnight, atol=0.0015)
    assert np.abs(half_a_minute - midnight).max() > 1e-4


def test_time_of_day_times_international_is_zero_for_national_flights() -> None:
    frame, y = _daily_flights(10, delayed_from=6)
    frame = frame.assign(TIPOVUELO=np.tile(["N", "I"], len(frame) // 2), HORA=np.arange(len(frame)) % 24.0)
    features = FlightFeatures("full").fit(frame, y)
    names = list(features.get_feature_names_out())
    basis = [names.index(n) for n in names if n.startswith("time_of_day_spline") and "*" not in n]
    international = [names.index(n) for n in names if n.endswith("*TIPOVUELO=I")]
    assert len(international) == len(basis) == 8
    matrix = features.transform(frame)
    national = (frame["TIPOVUELO"] == "N").to_numpy()
    assert not matrix[np.ix_(national, international)].any()
    np.testing.assert_array_equal(matrix[np.ix_(~national, international)], matrix[np.ix_(~national, basis)])
    assert matrix[np.ix_(~national, international)].any()


def test_time_of_day_scores_a_single_serving_record() -> None:
    frame, y = _daily_flights(10, delayed_from=6)
    features = FlightFeatures("full").fit(frame.assign(TIPOVUELO=np.tile(["N", "I"], len(frame) // 2)), y)
    names = list(features.get_feature_names_out())
    basis = [names.index(n) for n in names if n.startswith("time_of_day_spline")]
    record = canonical_flights(
        [{"OPERA": "A", "TIPOVUELO": "I", "Des-I": "SCFA", "Fecha-I": "2017-01-12 23:59:00"}]
    )
    row = features.transform(record)
    assert row.shape == (1, len(names)) and np.isfinite(row[0, basis]).all()
    assert row[0, basis].sum() == pytest.approx(2.0, rel=1e-5)  # basis and its international copy
    # Without a scheduled time (a minimal record goes to the minimal tier anyway): zeros, no error.
    minimal = canonical_flights([{"OPERA": "A", "TIPOVUELO": "I", "MES": 1, "DIA": 12}])
    assert not features.transform(minimal)[0, basis].any()


def test_full_set_asks_for_its_own_logreg_strength() -> None:
    from latam_airlines.features.feature_sets import FEATURE_SETS
    from latam_airlines.models.pipelines import make_pipeline

    y = np.tile([0, 1, 0, 0], 10_000)  # 40,000 training flights
    for feature_set in ("full", "intraday"):
        classifier = make_pipeline("logreg", y, feature_set, "weight").named_steps["classify"]
        assert FEATURE_SETS[feature_set]["params"]["logreg"] == {"C_flights": 20.0}
        assert abs(classifier.C - 0.0005) < 1e-12  # the backtests' choice at their size
    # The same shrinkage per flight at any size: a tenth of the flights, ten times C.
    small = make_pipeline("logreg", y[:4_000], "full", "weight").named_steps["classify"]
    assert abs(small.C - 0.005) < 1e-12
    # Explicit (or tuned) params still win; sets without their own settings keep the default.
    assert make_pipeline("logreg", y, "full", "weight", {"C": 0.3}).named_steps["classify"].C == 0.3
    assert make_pipeline("logreg", y, "static", "weight").named_steps["classify"].C == 0.5


def test_shrunk_windows_rate_the_hour_route_and_destination_hour_by_hand() -> None:
    # Airline A to SCFA at 10:00 twice a day (on time Jan 1-10, delayed Jan 11-20) and at
    # 15:00 once a day (on time); airline B to SCIE at 10:00 once a day (delayed).
    a10, y10 = _daily_flights(20, delayed_from=11)
    a15 = a10.drop_duplicates("DIA").assign(HORA=15.0, periodo_dia="tarde")
    b10 = a10.drop_duplicates("DIA").assign(OPERA="B", Des_I="SCIE")
    frame = pd.concat([a10, a15, b10], ignore_index=True)
    y = np.concatenate([y10, np.zeros(20), np.ones(20)])
    features = FlightFeatures("full").fit(frame, y)
    names = list(features.get_feature_names_out())
    flight = a10.tail(1)  # A to SCFA at 10:00 on Jan 20
    row = features.transform(flight)[0]
    prior, m = features.prior_, features.smoothing

    def rate(delayed: int, flights: int) -> float:
        return (delayed + m * prior) / (flights + m)

    # Hour 10, SCL-wide, Jan 6-19: A's 28 flights (18 delayed, Jan 11-19) and B's 14 (delayed).
    assert row[names.index("recent_rate[HORA;14d]")] == pytest.approx(rate(18 + 14, 42))
    # Route A-SCFA, Jan 13-19: 14 flights at 10:00 (delayed), 7 at 15:00 (on time).
    assert row[names.index("recent_rate[OPERA,Des_I;7d]")] == pytest.approx(rate(14, 21))
    # SCFA at 10:00 and A-SCFA at 10:00, Jan 1-19 (28 days back reach the year's start): 38, 18.
    assert row[names.index("recent_rate[Des_I,HORA;28d]")] == pytest.approx(rate(18, 38))
    assert row[names.index("recent_rate[OPERA,Des_I,HORA;28d]")] == pytest.approx(rate(18, 38))
    # The flight's own day never counts: relabelling Jan 20 changes none of them.
    relabelled = FlightFeatures("full").fit(frame, np.where(frame["DIA"] == 20, 1 - y, y))
    columns = [names.index(n) for n in names if n.startswith("recent_rate[")]
    again = relabelled.transform(flight)[0]
    assert relabelled.prior_ != prior  # the prior moved with the labels: compare counts instead
    m2, p2 = relabelled.smoothing, relabelled.prior_
    assert again[names.index("recent_rate[HORA;14d]")] == pytest.approx((32 + m2 * p2) / (42 + m2))
    assert len(columns) == 18  # the 14 earlier windows and these 4
