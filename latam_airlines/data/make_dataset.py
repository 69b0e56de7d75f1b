"""Raw flights -> interim table: validated, typed, de-duplicated, with the derived targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from latam_airlines.data.calendar import is_high_season, period_of_day
from latam_airlines.data.load import check_raw_columns
from latam_airlines.data.schema import CATEGORY_COLUMNS, DAY_NAMES, RAW_COLUMNS, REQUIRED_COLUMNS
from latam_airlines.errors import InputError
from latam_airlines.validation import validate_table

DELAY_THRESHOLD_MINUTES = 15


def _flight_number(values: pd.Series) -> pd.Series:
    # "1234.0" and "1234" are the same flight once read from a mixed column.
    return values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)


def make_dataset(raw: pd.DataFrame) -> pd.DataFrame:
    """The interim table: raw columns typed, exact duplicates dropped, and
    `dif_min`, `atraso_15`, `temporada_alta`, `periodo_dia` derived (the scheduled time by
    the rules of data/calendar.py).

    Pure: takes the raw frame (as `load_raw` gives it) and returns a new frame.
    """
    file = raw.attrs.get("source")
    check_raw_columns(raw, file=file)
    if raw.empty:
        raise InputError("no flights to process (0 rows)", file=file)
    # Every row by the shared flight rules (latam_airlines/validation.py): real dates in
    # Santiago time within the horizon, Fecha-O within days of Fecha-I, consistent fields.
    checked = validate_table(raw, file, required=tuple(REQUIRED_COLUMNS))
    frame = checked.drop_duplicates().reset_index(drop=True)
    scheduled = frame["Fecha-I"]
    operated = frame["Fecha-O"]

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
    for column, part in (("DIA", operated.dt.day), ("MES", operated.dt.month), ("AÑO", operated.dt.year)):
        given = frame.get(column, part)
        interim[column] = given.fillna(part).astype("int16")
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
