"""Canonical input fields: a processed table, a raw-format file or API records -> the fields
every model reads, named as the processed table names them.

Shared by training, `latam predict` and the API. Calendar fields absent from the input are
derived from `Fecha-I` (or from year, month, day, hour) by the rules of data/calendar.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from latam_airlines.data.calendar import (
    high_season,
    period_labels,
    scheduled_times,
    weekday_names,
    weekday_names_of_dates,
)

# Canonical input fields, as the processed table names them.
CATEGORICAL_FIELDS: list[str] = ["OPERA", "TIPOVUELO", "DIANOM", "Des_I", "periodo_dia"]
NUMERIC_FIELDS: list[str] = ["MES", "DIA", "HORA", "MIN", "temporada_alta", "AÑO"]
INPUT_FIELDS: list[str] = CATEGORICAL_FIELDS + NUMERIC_FIELDS
# Raw / API spellings of the same fields.
RENAMES: dict[str, str] = {"Des-I": "Des_I", "Ori-I": "Ori_I", "Emp-I": "Emp_I"}
DEFAULT_YEAR = 2017  # features_2017.csv has no year column


def flight_columns(
    flights: pd.DataFrame | Sequence[Mapping[str, Any]],
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Column arrays (raw/API spellings renamed) and row index of a frame or of records.

    Records skip the DataFrame constructor: that is most of the cost of scoring one record.
    """
    columns: dict[str, np.ndarray] = {}
    if isinstance(flights, pd.DataFrame):
        for name in flights.columns:
            _add_column(columns, str(name), flights[name].to_numpy())
        return columns, flights.index
    records = list(flights)
    names = dict.fromkeys(itertools.chain.from_iterable(records))  # every key, first-seen order
    for name in names:
        values = np.empty(len(records), dtype=object)
        values[:] = [record.get(name) for record in records]
        _add_column(columns, name, values)
    return columns, pd.RangeIndex(len(records))


def _add_column(columns: dict[str, np.ndarray], name: str, values: np.ndarray) -> None:
    """Store under the canonical name; when both spellings come (`Des-I` in some records,
    `Des_I` in others) each row keeps whichever it has, the canonical one first."""
    canonical = RENAMES.get(name, name)
    if canonical in columns:
        kept = columns[canonical]
        first, second = (values, kept) if name == canonical else (kept, values)
        values = np.where(pd.isna(first), second, first)
    columns[canonical] = values


def as_numbers(values: np.ndarray) -> np.ndarray:
    """Float64 array of a numeric field (NaN where missing or not a number)."""
    if values.dtype.kind in "iufb":
        return values.astype("float64")
    try:  # ints, floats, None and numeric strings convert directly
        return values.astype("float64")
    except (TypeError, ValueError):
        pass
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")


def _labels(values: np.ndarray) -> np.ndarray:
    """Object array of strings, None where missing (category codes treat None as unknown)."""
    labels = values.astype(object)
    missing = pd.isna(labels)
    if missing.any():
        labels[missing] = None
    return labels


def canonical_flights(
    flights: pd.DataFrame | Sequence[Mapping[str, Any]], year: int | None = None
) -> pd.DataFrame:
    """The INPUT_FIELDS of each flight (NaN/None where absent and underivable).

    `Fecha-I` (scheduled time) gives MES, DIA, HORA, MIN, DIANOM, temporada_alta and
    periodo_dia, by the calendar rules of data/calendar.py (as `data make` and `features build`); without it DIANOM comes from
    (AÑO or `year`, MES, DIA), temporada_alta from (MES, DIA), periodo_dia from HORA.
    AÑO comes from the input, else `Fecha-I`, else `year` (default 2017, the seed table's).
    Fields given in the input win over derived ones. Vectorised: cheap for one record.
    """
    return canonical_from_columns(*flight_columns(flights), year=year)


def canonical_from_columns(
    columns: Mapping[str, np.ndarray], index: pd.Index, year: int | None = None
) -> pd.DataFrame:
    """`canonical_flights` on columns already extracted by `flight_columns`."""
    rows = len(index)
    given = set(columns)
    out: dict[str, np.ndarray] = {}
    for field in CATEGORICAL_FIELDS:
        out[field] = _labels(columns[field]) if field in given else np.full(rows, None, dtype=object)
    for field in NUMERIC_FIELDS:
        out[field] = as_numbers(columns[field]) if field in given else np.full(rows, np.nan)
    if "Fecha-I" in given:
        scheduled = scheduled_times(columns["Fecha-I"])
        derived = {
            "MES": scheduled.month, "DIA": scheduled.day, "HORA": scheduled.hour, "MIN": scheduled.minute,
            "AÑO": scheduled.year,
        }  # fmt: skip
        for field, values in derived.items():
            values = np.asarray(values, dtype="float64")
            out[field] = np.where(np.isnan(out[field]), values, out[field])
        names = weekday_names(np.asarray(scheduled.day_of_week, dtype="float64"))
        out["DIANOM"] = np.where(pd.isna(out["DIANOM"]), names, out["DIANOM"])
    out["AÑO"] = np.where(np.isnan(out["AÑO"]), float(year or DEFAULT_YEAR), out["AÑO"])
    if np.isnan(out["temporada_alta"]).any():
        season = high_season(out["MES"], out["DIA"])
        out["temporada_alta"] = np.where(np.isnan(out["temporada_alta"]), season, out["temporada_alta"])
    missing_day = pd.isna(out["DIANOM"])
    if missing_day.any():
        names = weekday_names_of_dates(
            out["AÑO"][missing_day], out["MES"][missing_day], out["DIA"][missing_day]
        )
        out["DIANOM"] = out["DIANOM"].copy()
        out["DIANOM"][missing_day] = names
    missing_period = pd.isna(out["periodo_dia"])
    if missing_period.any():
        out["periodo_dia"] = np.where(missing_period, period_labels(out["HORA"]), out["periodo_dia"])
    # One object block: cheap to build for a few records, and pandas keeps labels as plain
    # Python strings (a dict of columns would turn them into slower arrow strings).
    block = np.empty((rows, len(INPUT_FIELDS)), dtype=object)
    for position, field in enumerate(INPUT_FIELDS):
        block[:, position] = out[field]
    return pd.DataFrame(block, index=index, columns=INPUT_FIELDS, dtype=object, copy=False)
