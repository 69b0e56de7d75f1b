"""Read a table written by this package (Parquet or CSV), with a clear error when it can't."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from latam_airlines.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")


def is_csv(path: str | Path) -> bool:
    """CSV, plain or compressed (pandas infers the compression from the suffix)."""
    return str(path).lower().endswith(CSV_SUFFIXES)


def read_table(path: str | Path) -> pd.DataFrame:
    """A Parquet or CSV table (by suffix); InputError for a missing, empty or broken file."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file (run the previous pipeline step first?)", file=str(path))
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig") if is_csv(path) else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=str(path)) from None
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise InputError(f"not a readable CSV file ({error})", file=str(path)) from None
    except (OSError, ValueError) as error:
        raise InputError(f"not a readable Parquet file ({error})", file=str(path)) from None
    if frame.empty:
        raise InputError("the table has no rows", file=str(path))
    frame.attrs["source"] = str(path)
    return frame


def require_interim_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    """InputError naming the first missing column when `frame` is not an interim table."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(
            f"not an interim table (run `latam data make` first): missing {', '.join(missing)}",
            file=frame.attrs.get("source"),
            column=missing[0],
        )
