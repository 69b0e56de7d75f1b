"""Engineered features: the same mapping as build_features, no label leakage while fitting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from latam_airlines.features import build_features
from latam_airlines.features.engineered import (
    HOLIDAY_FEATURES,
    FlightFeatures,
    canonical_flights,
    holiday_calendar,
    holiday_features,
)


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


def test_holiday_features_follow_the_chilean_calendar() -> None:
    # 2017: Sep 18-19 Fiestas Patrias (Mon-Tue), Dec 25 Christmas (Mon), Jul 5 an ordinary Wednesday.
    month = np.array([9.0, 9.0, 9.0, 12.0, 7.0, np.nan])
    day = np.array([17.0, 18.0, 20.0, 24.0, 5.0, 1.0])
    table = holiday_features(month, day, 2017, holiday_calendar(2017))
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
    features = FlightFeatures("full").fit(frame, np.tile([0, 1], 20))
    names = list(features.get_feature_names_out())
    row = features.transform(frame.head(1))
    assert row.shape == (1, len(names)) and names[-len(HOLIDAY_FEATURES) :] == HOLIDAY_FEATURES
    assert row[0, names.index("holiday")] == 1.0
