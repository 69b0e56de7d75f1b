"""Adapter: US domestic on-time records of 2001 (`flights-3m.parquet` of the vega-datasets npm
package, fetched by `latam_airlines.datasets.us2001`) in the raw SCL schema.

The source has one row per flight: `date` (scheduled departure, to the minute), `delay`
(minutes, negative when early), `distance` (miles), `origin`, `destination` (IATA codes).
It has no carrier and no flight number: `Emp-I`/`OPERA` say so, and `Vlo-I` carries the
record's row number, so that two real flights on the same route in the same minute with the
same delay are not taken for one duplicated row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from latam_airlines.data.schema import DAY_NAMES, RAW_COLUMNS
from latam_airlines.errors import InputError

US2001_COLUMNS = ("date", "delay", "origin", "destination")
UNKNOWN_CARRIER = "UNK"  # the source names no airline


def is_us2001(columns) -> bool:
    """Whether a table's columns are the US 2001 records' (`date, delay, origin, destination`)."""
    return all(column in columns for column in US2001_COLUMNS)


def _checked(records: pd.DataFrame, file: str | None) -> pd.DataFrame:
    missing = [column for column in US2001_COLUMNS if column not in records]
    if missing:
        raise InputError(f"not US 2001 records: missing {', '.join(missing)}", file=file, column=missing[0])
    if records.empty:
        raise InputError("the table has no rows", file=file)
    scheduled = records["date"]
    if not pd.api.types.is_datetime64_any_dtype(scheduled):
        scheduled = pd.to_datetime(scheduled, errors="coerce")
        if scheduled.isna().any():
            bad = records["date"][scheduled.isna()].iloc[0]
            raise InputError("unparseable date", file=file, column="date", value=str(bad))
    delay = pd.to_numeric(records["delay"], errors="coerce")
    return pd.DataFrame(
        {
            "date": scheduled.astype("datetime64[ns]"),
            "delay": delay,
            "origin": _stripped(records["origin"]),
            "destination": _stripped(records["destination"]),
        },
        index=records.index,
    )


def _stripped(codes: pd.Series) -> pd.Series:
    """Airport codes without surrounding spaces. A Categorical whose few categories are
    already clean stays one: millions of rows are not turned into Python strings."""
    if isinstance(codes.dtype, pd.CategoricalDtype):
        names = codes.cat.categories.astype(str)
        if names.str.strip().equals(names):
            return codes
    return codes.astype("string").str.strip()


def _column(values: pd.Series):
    """A column's values for a new frame: a Categorical kept as one, other types as NumPy."""
    return values.array if isinstance(values.dtype, pd.CategoricalDtype) else values.to_numpy()


def us2001_flights(records: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """The columns the anomaly job reads (`Fecha-I, Ori-I, Des-I, dif_min`), straight from the
    records: the same values `make_dataset(us2001_to_scl(records))` gives, without the rest."""
    checked = _checked(records, file)
    return pd.DataFrame(
        {
            "Fecha-I": checked["date"].to_numpy(),
            "Ori-I": _column(checked["origin"]),
            "Des-I": _column(checked["destination"]),
            "dif_min": checked["delay"].to_numpy(dtype=float),
        }
    )


def us2001_to_scl(records: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Map the US 2001 records onto the raw SCL columns (see the module docstring)."""
    checked = _checked(records, file)
    scheduled = checked["date"]
    operated = scheduled + pd.to_timedelta(checked["delay"].to_numpy(), unit="min")
    record_numbers = pd.Series(np.arange(len(checked)), dtype="int64").astype(str).to_numpy()
    origin = checked["origin"].to_numpy()
    destination = checked["destination"].to_numpy()
    raw = pd.DataFrame(
        {
            "Fecha-I": scheduled.to_numpy(),
            "Vlo-I": record_numbers,
            "Ori-I": origin,
            "Des-I": destination,
            "Emp-I": UNKNOWN_CARRIER,
            "Fecha-O": operated.to_numpy(),
            "Vlo-O": record_numbers,
            "Ori-O": origin,
            "Des-O": destination,
            "Emp-O": UNKNOWN_CARRIER,
            # As the challenge file does: DIA/MES/AÑO/DIANOM date the operation time.
            "DIA": operated.dt.day.to_numpy(),
            "MES": operated.dt.month.to_numpy(),
            "AÑO": operated.dt.year.to_numpy(),
            "DIANOM": np.asarray(DAY_NAMES, dtype=object)[operated.dt.day_of_week.to_numpy()],
            "TIPOVUELO": "N",  # domestic
            "OPERA": "unknown (US 2001 records)",
            "SIGLAORI": origin,
            "SIGLADES": destination,
        }
    )
    raw = raw[RAW_COLUMNS]
    raw.attrs["source"] = file or "us2001"
    return raw


def load_us2001(path: str) -> pd.DataFrame:
    """A US 2001 records file (Parquet or CSV, local or URL) in the raw SCL schema."""
    from latam_airlines.io import read_table, table_columns

    path = str(path)
    missing = [column for column in US2001_COLUMNS if column not in table_columns(path)]
    if missing:
        raise InputError(f"not a US 2001 records table (no column {missing[0]!r})", file=path)
    records = read_table(path, columns=list(US2001_COLUMNS), require_rows=False)
    return us2001_to_scl(records, file=path)
