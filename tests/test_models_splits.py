"""The temporal holdout is relative to the data: `train` works on any span of days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.errors import InputError
from latam_airlines.models import train
from latam_airlines.models.splits import flight_dates, holdout_split


def _months(table: pd.DataFrame, rows: np.ndarray) -> set[int]:
    return set(table["MES"].iloc[rows].astype(int))


def test_full_year_tests_on_november_december(scl_features: pd.DataFrame) -> None:
    train_rows, test_rows = holdout_split(scl_features)
    assert _months(scl_features, test_rows) == {11, 12}
    assert _months(scl_features, train_rows) == set(range(1, 11))
    assert len(train_rows) + len(test_rows) == len(scl_features)


def test_a_table_ending_in_june_tests_on_its_last_two_months(scl_features: pd.DataFrame) -> None:
    first_half = scl_features[scl_features["MES"] <= 6].reset_index(drop=True)
    train_rows, test_rows = holdout_split(first_half)
    assert _months(first_half, test_rows) == {5, 6}
    assert _months(first_half, train_rows) == {1, 2, 3, 4}


def test_a_one_month_table_tests_on_its_last_third_of_days(scl_features: pd.DataFrame) -> None:
    march = scl_features[scl_features["MES"] == 3].reset_index(drop=True)
    train_rows, test_rows = holdout_split(march, test_size=0.33)
    train_days, test_days = march["DIA"].iloc[train_rows], march["DIA"].iloc[test_rows]
    assert train_days.max() < test_days.min()  # strictly later days
    assert set(test_days) == set(range(22, 32))  # 10 of 31 days (0.33 x 31, rounded)


def test_fixed_calendar_months_remain_an_option(scl_features: pd.DataFrame) -> None:
    _, test_rows = holdout_split(scl_features, "months", test_months=(7, 8))
    assert _months(scl_features, test_rows) == {7, 8}
    january_to_october = scl_features[scl_features["MES"] <= 10]
    with pytest.raises(InputError, match="split: temporal"):
        holdout_split(january_to_october, "months", test_months=(11, 12))


def test_train_on_january_to_october_holds_out_september_october(scl_features: pd.DataFrame) -> None:
    jan_to_oct = scl_features[scl_features["MES"] <= 10]
    sample = jan_to_oct.sample(4000, random_state=7).reset_index(drop=True)
    model = train(sample, model="reference", refit_full=False)
    assert "test 2017-09-01..2017-10-31" in model.metrics["protocol"]
    held_out = (sample["MES"] >= 9).sum()
    assert model.metrics["holdout"]["rows"] == held_out
    assert model.metrics["train_rows"] == len(sample) - held_out


def test_train_on_one_month_works(scl_features: pd.DataFrame) -> None:
    march = scl_features[scl_features["MES"] == 3].sample(2500, random_state=1).reset_index(drop=True)
    model = train(march, model="reference", refit_full=False)
    assert "test 2017-03-22..2017-03-31" in model.metrics["protocol"]
    assert 0 < model.metrics["holdout"]["rows"] < len(march)


def test_undated_or_single_day_tables_get_an_actionable_error(scl_features: pd.DataFrame) -> None:
    one_day = scl_features[(scl_features["MES"] == 3) & (scl_features["DIA"] == 5)]
    with pytest.raises(InputError, match="at least 2 days"):
        holdout_split(one_day)
    with pytest.raises(InputError, match="split: random"):
        holdout_split(scl_features.drop(columns="DIA"))
    dates = flight_dates(scl_features.head(3))
    assert str(dates[0]) == "2017-01-01"


def test_library_defaults_are_params_yaml_train_section() -> None:
    from latam_airlines.models.training import TrainConfig
    from latam_airlines.settings import load_settings

    section = load_settings().train
    config = TrainConfig()
    assert config.model == section.model == "logreg"  # the project's choice, not xgb
    assert config.split == "temporal" and config.last_months == 2
    assert config.stale_after_days == section.stale_after_days
