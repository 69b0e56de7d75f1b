"""Train/test splits: temporal holdout (what a deployed model faces) or stratified random.

The temporal holdout is relative to the data (`split: temporal`): the last `last_months`
calendar months present in the table are the test part (on the full SCL 2017 table, with the
default 2: November–December), so `train` works on any span. A table spanning fewer than
`MONTHS_PER_TEST_MONTH` x `last_months` months (e.g. one month) is split by days instead: its
last `test_size` share of days. Fixed calendar months remain an option (`split: months` with
`test_months`, e.g. [11, 12]: those months of the table's last year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from latam_airlines.errors import InputError

SPLITS: tuple[str, ...] = ("temporal", "months", "random")
# The last-months rule needs a training part at least twice the test part: with `last_months`
# 2, at least 6 months of data; fewer, and the last `test_size` share of days is the test part.
MONTHS_PER_TEST_MONTH = 3
DEFAULT_YEAR = 2017


def split_options(train_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The split keys of a settings train section (dict), as `holdout_split` keywords."""
    keys = ("split", "last_months", "test_months", "test_size")
    return {key: train_settings[key] for key in keys if train_settings.get(key) is not None}


def flight_dates(processed: pd.DataFrame, year: int | None = None) -> np.ndarray:
    """datetime64[D] of each row's scheduled day (NaT where unknown), from AÑO (else `year`,
    else 2017), MES and DIA."""
    from latam_airlines.data.calendar import day_numbers

    def number(column: str) -> np.ndarray:
        if column not in processed.columns:
            return np.full(len(processed), np.nan)
        return pd.to_numeric(processed[column], errors="coerce").to_numpy(dtype=float)

    years = number("AÑO")
    years = np.where(np.isnan(years), float(year or DEFAULT_YEAR), years)
    days = day_numbers(years, number("MES"), number("DIA"))
    dates = np.full(len(processed), np.datetime64("NaT"), dtype="datetime64[D]")
    known = ~np.isnan(days)
    dates[known] = days[known].astype(np.int64).astype("datetime64[D]")
    return dates


def _months_split(processed: pd.DataFrame, test_months: Sequence[int]) -> np.ndarray:
    month = pd.to_numeric(processed["MES"], errors="coerce").to_numpy()
    if "AÑO" in processed.columns:
        year = pd.to_numeric(processed["AÑO"], errors="coerce").to_numpy()
        return (year == np.nanmax(year)) & np.isin(month, list(test_months))
    return np.isin(month, list(test_months))


def _relative_split(
    processed: pd.DataFrame, last_months: int, test_size: float, year: int | None
) -> np.ndarray:
    if "DIA" not in processed.columns:
        raise InputError(
            "a temporal split needs each flight's day (MES and DIA columns); "
            "use split: random, or split: months with test_months",
            column="DIA",
        )
    dates = flight_dates(processed, year)
    if np.isnat(dates).any():
        row = int(np.flatnonzero(np.isnat(dates))[0])
        raise InputError(
            f"a temporal split needs a valid date on every row; row {row} has none "
            "(check AÑO, MES, DIA), or use split: random",
            column="MES",
            value=processed["MES"].iloc[row],
        )
    months = dates.astype("datetime64[M]")
    present = np.unique(months)
    if len(present) >= MONTHS_PER_TEST_MONTH * last_months:
        return months >= present[-last_months]
    # Too few months: the last `test_size` share of the days present.
    days = np.unique(dates)
    if len(days) < 2:
        raise InputError(
            f"a temporal split needs flights on at least 2 days; the table holds only {days[0]} "
            "(add more days, or use split: random)",
            column="DIA",
        )
    test_days = min(max(int(round(len(days) * test_size)), 1), len(days) - 1)
    return dates >= days[-test_days]


def holdout_split(
    processed: pd.DataFrame,
    split: str | None = None,
    test_months: Sequence[int] | None = None,
    test_size: float | None = None,
    seed: int | None = None,
    last_months: int | None = None,
    year: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, test), see the module docstring. temporal: the last `last_months`
    months present (else the last `test_size` of days); months: `test_months` of the table's
    last year; random: stratified `test_size` share. Arguments not given: the settings' train
    section (and seed)."""
    from latam_airlines.features import TARGET
    from latam_airlines.settings import current, filled

    split, test_months, test_size, last_months = filled(
        current().train, split=split, test_months=test_months, test_size=test_size, last_months=last_months
    )
    (seed,) = filled(current(), seed=seed)

    positions = np.arange(len(processed))
    if split == "random":
        train, test = train_test_split(
            positions, test_size=test_size, random_state=seed, stratify=processed[TARGET].to_numpy()
        )
        return np.sort(train), np.sort(test)
    if split == "months":
        is_test = _months_split(processed, test_months)
        if is_test.all() or not is_test.any():
            raise InputError(
                f"split: months needs rows both in and outside months {list(test_months)}; "
                "pick test_months the table holds, or use split: temporal (the last months present)",
                column="MES",
            )
    elif split == "temporal":
        if int(last_months) < 1:
            raise InputError(f"last_months must be at least 1, got {last_months}", value=last_months)
        is_test = _relative_split(processed, int(last_months), test_size, year)
    else:
        raise InputError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}", value=split)
    return positions[~is_test], positions[is_test]


def describe_test_part(processed: pd.DataFrame, test_rows: np.ndarray, year: int | None = None) -> str:
    """'2017-11-01..2017-12-31' (first and last day of the test part), '' when undated."""
    if "DIA" not in processed.columns or not len(test_rows):
        return ""
    dates = flight_dates(processed.iloc[test_rows], year)
    dates = dates[~np.isnat(dates)]
    return f"{dates.min()}..{dates.max()}" if len(dates) else ""


def validation_split(
    y: np.ndarray, share: float | None = None, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) positions inside a training part, stratified: the threshold is chosen
    on the validation rows, never on the test rows. Share and seed not given: the settings'
    train.validation_share and seed."""
    from latam_airlines.settings import current, filled

    (share,), (seed,) = filled(current().train, validation_share=share), filled(current(), seed=seed)
    positions = np.arange(len(y))
    fit, validation = train_test_split(positions, test_size=share, random_state=seed, stratify=y)
    return np.sort(fit), np.sort(validation)
