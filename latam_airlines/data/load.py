"""Read raw flight files (CSV or Parquet, local or fsspec URLs) into the raw SCL schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from latam_airlines.data.schema import REQUIRED_COLUMNS
from latam_airlines.errors import InputError
from latam_airlines.io import read_table

SOURCES = ("scl", "nycflights13", "us2001")
_OTHER_DELIMITERS = (";", "\t", "|")
# Columns that identify what a file is, whatever its other columns (see detect_source).
NYCFLIGHTS_COLUMNS = (
    "year",
    "month",
    "day",
    "sched_dep_time",
    "dep_delay",
    "carrier",
    "flight",
    "origin",
    "dest",
)
PROCESSED_MARKERS = ("atraso_15", "HORA", "MIN", "OPERA", "TIPOVUELO")


def read_raw_table(path: str) -> pd.DataFrame:
    """A raw flights file as it is (CSV or Parquet, local or URL), header-only allowed."""
    # Flight numbers mix "1234" and "1234.0" in the challenge file: keep them as text.
    return read_table(path, dtype={"Vlo-I": str, "Vlo-O": str}, require_rows=False)


def check_raw_columns(raw: pd.DataFrame, file: str | None = None) -> None:
    """Raise InputError naming the missing required columns (and a delimiter hint)."""
    missing = [column for column in REQUIRED_COLUMNS if column not in raw.columns]
    if not missing:
        return
    if len(raw.columns) == 1:
        header = str(raw.columns[0])
        used = next((d for d in _OTHER_DELIMITERS if d in header), None)
        if used:
            raise InputError(
                f"wrong delimiter: the header is split by {used!r}, expected ','",
                file=file,
                column=header[:60],
            )
    raise InputError(
        f"missing required column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}",
        file=file,
        column=missing[0],
    )


def detect_source(columns: list[str], file: str | None = None) -> str:
    """The source a table's columns say it is: `scl` (the raw challenge schema, or an interim
    table, which carries it), `nycflights13` (the package's `flights` table layout) or
    `us2001` (the US 2001 on-time records: date, delay, origin, destination).
    InputError naming what the file looks like otherwise (e.g. a processed table)."""
    from latam_airlines.data.us2001 import is_us2001

    present = set(map(str, columns))
    if all(column in present for column in NYCFLIGHTS_COLUMNS):
        return "nycflights13"
    if is_us2001(present):
        return "us2001"
    if "Fecha-I" in present or "Fecha-O" in present:
        return "scl"
    if all(column in present for column in PROCESSED_MARKERS):
        raise InputError(
            "this is a processed feature table, not raw flights: train on it directly "
            "(`latam train --data FILE`)",
            file=file,
        )
    return "scl"  # check_raw_columns then names the missing columns


def load_raw(path: str | Path | None, source: str | None = "scl") -> pd.DataFrame:
    """Raw flights in the SCL schema.

    `source="scl"` reads a file in the challenge's raw format (flight-number columns may be
    absent); `source="nycflights13"` maps nycflights13's `flights` layout: the package's own
    2013 NYC flights when `path` is None, else a file in that layout; `source="us2001"` maps US
    2001 on-time records (`date, delay, distance, origin, destination`; default path:
    data/external/flights-3m.parquet, `latam data fetch-us2001`). `source=None` infers the
    source from the file's columns; a given source that the file contradicts is an InputError.
    """
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if path is None:
        if source == "nycflights13":
            from latam_airlines.data.nycflights import load_nycflights13

            return load_nycflights13()
        if source == "us2001":
            from latam_airlines.data.us2001 import load_us2001
            from latam_airlines.datasets.us2001 import US2001_PATH

            return load_us2001(str(US2001_PATH))
        raise InputError(f"a raw file path is required for source {source or 'scl'!r}")
    path = str(path)
    raw = read_raw_table(path)
    detected = detect_source(list(raw.columns), file=path)
    if source is not None and detected != source and len(raw.columns) > 1:
        raise InputError(
            f"--source {source} contradicts the file, whose columns are those of {detected}",
            file=path,
        )
    if detected == "nycflights13":
        from latam_airlines.data.nycflights import nycflights_file_to_scl

        raw = nycflights_file_to_scl(raw)
        if raw.empty:
            raise InputError("no flight in the file has a departure time (all cancelled?)", file=path)
        raw.attrs["source"] = path
        return raw
    if detected == "us2001":
        from latam_airlines.data.us2001 import us2001_to_scl

        return us2001_to_scl(raw, file=path)
    check_raw_columns(raw, file=path)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=path)
    raw.attrs["source"] = path
    return raw
