"""build_features: a superset of the seed's processed table, with the same meanings."""

from __future__ import annotations

import pandas as pd

from latam_airlines.features import SEED_FEATURE_COLUMNS, build_features


def test_columns_are_a_superset_of_the_seed_table(scl_interim, scl_features):
    processed = build_features(scl_interim)
    assert set(scl_features.columns) <= set(processed.columns)
    assert list(processed.columns[: len(SEED_FEATURE_COLUMNS)]) == SEED_FEATURE_COLUMNS


def test_calendar_fields_come_from_the_scheduled_time(scl_interim):
    processed = build_features(scl_interim)
    scheduled = scl_interim["Fecha-I"]
    assert (processed["HORA"] == scheduled.dt.hour).all()
    assert (processed["MIN"] == scheduled.dt.minute).all()
    assert (processed["DIA"] == scheduled.dt.day).all()
    first = scl_interim.iloc[0]  # 2017-01-26 15:20, a Thursday
    assert (processed["DIANOM"].iloc[0], processed["MESNOM"].iloc[0]) == ("Jueves", "Ene")
    assert processed["Des_I"].iloc[0] == first["Des-I"]


def test_value_vocabularies_match_the_seed_table(scl_interim, scl_features):
    processed = build_features(scl_interim)
    for column in ["DIANOM", "MESNOM", "periodo_dia", "TIPOVUELO"]:
        assert set(processed[column].astype(str)) == set(scl_features[column]), column
    assert set(processed["OPERA"].astype(str)) <= set(scl_features["OPERA"])


def test_change_flags_compare_scheduled_and_operated_fields(scl_interim):
    processed = build_features(scl_interim)
    changed = scl_interim["Emp-I"].astype(str) != scl_interim["Emp-O"].astype(str)
    assert (processed["Emp_change"] == changed.astype(int)).all() and changed.any()
    assert processed["Vlo_change"].sum() == 0  # flight numbers absent: no change can be seen


def test_target_is_carried_over(scl_interim):
    processed = build_features(scl_interim)
    pd.testing.assert_series_equal(
        processed["atraso_15"].astype(int), scl_interim["atraso_15"].astype(int), check_names=False
    )
