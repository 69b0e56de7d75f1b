"""Raw flights -> interim table: validated, typed, de-duplicated, with the derived targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from latam_airlines.data.load import check_raw_columns
from latam_airlines.data.schema import (
    CATEGORY_COLUMNS,
    DAY_NAMES,
    PERIODS,
    RAW_COLUMNS,
    TIPOVUELO_VALUES,
)
from latam_airlines.errors import InputError

DELAY_THRESHOLD_MINUTES = 15


def _parse_dates(raw: pd.DataFrame, column: str, file: str | None) -> pd.Series:
    values = raw[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        # The challenge file writes "2017-01-01 23:30:00"; fall back to pandas' parser otherwise.
        parsed = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
        if parsed.isna().any():
            retry = parsed.isna() & text.notna()
            parsed[retry] = pd.to_datetime(text[retry], format="mixed", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"unparseable date in row {row + 2} (line of the file, header is line 1); "
            f"{int(bad.sum())} such row(s)",
            file=file,
            column=column,
            value=None if pd.isna(values.iloc[row]) else str(values.iloc[row]),
        )
    return parsed


def is_high_season(when: pd.Series) -> pd.Series:
    """Dec 15–Mar 3, Jul 15–Jul 31 or Sep 11–Sep 30 (inclusive), by calendar date."""
    month_day = when.dt.month * 100 + when.dt.day
    return (
        (month_day >= 1215) | (month_day <= 303) | month_day.between(715, 731) | month_day.between(911, 930)
    )


def period_of_day(when: pd.Series) -> pd.Categorical:
    """mañana 05:00–11:59, tarde 12:00–18:59, noche 19:00–04:59."""
    hour = when.dt.hour.to_numpy()
    codes = np.where((hour >= 5) & (hour < 12), 0, np.where((hour >= 12) & (hour < 19), 1, 2))
    return pd.Categorical.from_codes(codes, categories=PERIODS)


def _check_tipovuelo(raw: pd.DataFrame, file: str | None) -> None:
    values = raw["TIPOVUELO"].astype("string").str.strip()
    bad = ~values.isin(TIPOVUELO_VALUES)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected I (international) or N (national) in row {row + 2}",
            file=file,
            column="TIPOVUELO",
            value=None if pd.isna(values.iloc[row]) else str(values.iloc[row]),
        )


def _flight_number(values: pd.Series) -> pd.Series:
    # "1234.0" and "1234" are the same flight once read from a mixed column.
    return values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)


def make_dataset(raw: pd.DataFrame) -> pd.DataFrame:
    """The interim table: raw columns typed, exact duplicates dropped, and
    `dif_min`, `atraso_15`, `temporada_alta`, `periodo_dia` derived (scheduled time rules).

    Pure: takes the raw frame (as `load_raw` gives it) and returns a new frame.
    """
    file = raw.attrs.get("source")
    check_raw_columns(raw, file=file)
    if raw.empty:
        raise InputError("no flights to process (0 rows)", file=file)
    _check_tipovuelo(raw, file)

    frame = raw.drop_duplicates().reset_index(drop=True)
    scheduled = _parse_dates(frame, "Fecha-I", file)
    operated = _parse_dates(frame, "Fecha-O", file)

    interim = pd.DataFrame(index=frame.index)
    for column in RAW_COLUMNS:
        if column in frame.columns:
            interim[column] = frame[column]
    interim["Fecha-I"] = scheduled
    interim["Fecha-O"] = operated
    # Absent optional columns are derived the way the challenge file defines them.
    for column in ("Vlo-I", "Vlo-O"):
        interim[column] = _flight_number(frame[column]) if column in frame else pd.NA
        interim[column] = interim[column].astype("string")
    interim["DIA"] = frame["DIA"].astype("int16") if "DIA" in frame else operated.dt.day.astype("int16")
    interim["MES"] = frame["MES"].astype("int16") if "MES" in frame else operated.dt.month.astype("int16")
    interim["AÑO"] = frame["AÑO"].astype("int16") if "AÑO" in frame else operated.dt.year.astype("int16")
    if "DIANOM" not in frame:
        interim["DIANOM"] = np.asarray(DAY_NAMES, dtype=object)[operated.dt.day_of_week.to_numpy()]
    for code, name in (("Ori-I", "SIGLAORI"), ("Des-I", "SIGLADES")):
        if name not in frame:
            interim[name] = frame[code]
    for column in CATEGORY_COLUMNS:
        interim[column] = interim[column].astype("string").str.strip().astype("category")

    interim["dif_min"] = (operated - scheduled).dt.total_seconds() / 60.0
    interim["atraso_15"] = (interim["dif_min"] > DELAY_THRESHOLD_MINUTES).astype("int8")
    interim["temporada_alta"] = is_high_season(scheduled).astype("int8")
    interim["periodo_dia"] = period_of_day(scheduled)
    interim = interim[RAW_COLUMNS + ["dif_min", "atraso_15", "temporada_alta", "periodo_dia"]]
    interim.attrs["source"] = file
    return interim
