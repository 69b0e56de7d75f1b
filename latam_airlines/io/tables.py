"""Read and write tables: CSV (plain or compressed), Parquet files and partitioned Parquet
folders, local or URL, with one clear InputError naming the file when it can't."""

from __future__ import annotations

import gzip
from io import TextIOWrapper
from pathlib import Path
from typing import NoReturn

import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.io.atomic import atomic_path, check_input, published_folder
from latam_airlines.io.location import filesystem, is_url, one_line

_COMPRESSIONS = {".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_csv(path: str | Path) -> bool:
    """CSV, plain or compressed (pandas infers the compression from the suffix)."""
    return str(path).lower().endswith(CSV_SUFFIXES)


def is_parquet(path: str | Path) -> bool:
    return str(path).rstrip("/").lower().endswith(PARQUET_SUFFIXES)


def _is_parquet_file(fs, root: str, path: str) -> bool:
    """By suffix; a name with neither suffix is Parquet when it starts with Parquet's magic bytes."""
    if is_csv(path) or is_parquet(path):
        return is_parquet(path)
    try:
        with fs.open(root, "rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def _kind(path: str) -> str:
    return "CSV" if is_csv(path) else "Parquet" if is_parquet(path) else "CSV or Parquet"


def _read(path: str, columns: list[str] | None, dtype: dict | None, nrows: int | None) -> pd.DataFrame:
    fs, root = filesystem(path)
    # Parquet keeps its own types; a "category" dtype is read as a dictionary column (a pandas
    # Categorical straight from pyarrow: no Python string per row).
    categories = [name for name, kind in (dtype or {}).items() if str(kind) == "category"]
    parquet = {"read_dictionary": categories} if categories else {}
    if fs.isdir(root):  # a partitioned Parquet folder (hidden and _metadata files skipped)
        if is_url(path):
            return pd.read_parquet(root, columns=columns, filesystem=fs, **parquet)
        return pd.read_parquet(root, columns=columns, **parquet)
    if _is_parquet_file(fs, root, path):
        if is_url(path):
            with fs.open(root, "rb") as handle:
                return pd.read_parquet(handle, columns=columns, **parquet)
        return pd.read_parquet(root, columns=columns, **parquet)
    options = {"usecols": columns, "dtype": dtype, "nrows": nrows, "encoding": "utf-8-sig"}
    if not is_url(path):
        return pd.read_csv(root, **options)
    with fs.open(root, "rb", compression="infer") as handle:
        return pd.read_csv(handle, **options)


def _is_folder(path: str) -> bool:
    fs, root = filesystem(path)
    return fs.isdir(root)


def _raise_read_error(path: str, kind: str, error: Exception) -> NoReturn:
    """The InputError a broken table file gets, by what went wrong."""
    if isinstance(error, pd.errors.EmptyDataError):
        raise InputError("the file is empty (no header, no rows)", file=path) from None
    if isinstance(error, UnicodeDecodeError):
        bad = error.object[error.start : error.start + 1]
        raise InputError(
            f"not UTF-8 text: byte 0x{bad.hex()} at offset {error.start}; re-save the file as UTF-8",
            file=path,
        ) from None
    if isinstance(error, pd.errors.ParserError):
        raise InputError(f"not a well-formed CSV file ({one_line(error)})", file=path) from None
    if isinstance(error, EOFError):  # a compressed file cut short
        raise InputError(f"the compressed {kind} file is truncated", file=path) from None
    if isinstance(error, FileNotFoundError):
        raise InputError("no such file", file=path) from None
    # OSError (gzip.BadGzipFile), ValueError, zlib.error, and pyarrow's and s3fs/botocore's own types
    raise InputError(f"not a readable {kind} file ({one_line(error)})", file=path) from None


def read_table(
    path: str | Path,
    columns: list[str] | None = None,
    *,
    dtype: dict | None = None,
    require_rows: bool = True,
) -> pd.DataFrame:
    """A CSV (by suffix, compression inferred) or Parquet table (file or partitioned folder),
    local or URL; InputError naming the file for a missing, empty or broken one. `columns`
    reads only those; `require_rows=False` returns a header-only table instead of failing."""
    path = str(path)
    check_input(path, folder_ok=not is_csv(path))  # a folder is a partitioned Parquet table
    kind = _kind(path)
    try:
        frame = _read(path, columns, dtype, None)
    except InputError:
        raise
    except Exception as error:
        if _is_folder(path):
            raise InputError(
                f"this is a folder, and not a partitioned Parquet table ({one_line(error)})", file=path
            ) from None
        _raise_read_error(path, kind, error)
    if require_rows and frame.empty:
        raise InputError("the table has no rows", file=path)
    frame.attrs["source"] = path
    return frame


def table_columns(path: str | Path) -> list[str]:
    """Column names of a CSV or Parquet file (or partitioned Parquet folder), without its rows."""
    path = str(path)
    check_input(path, folder_ok=True)
    fs, root = filesystem(path)
    try:
        if fs.isdir(root):
            import pyarrow.dataset as ds

            return list(ds.dataset(root, format="parquet", filesystem=fs, partitioning="hive").schema.names)
        if not _is_parquet_file(fs, root, path):
            return list(_read(path, None, None, 0).columns)
        import pyarrow.parquet as pq

        with fs.open(root, "rb") as handle:
            return list(pq.read_schema(handle).names)
    except Exception as error:  # pyarrow / parsers raise many types for a broken file
        _raise_read_error(path, _kind(path), error)


def write_table(
    frame: pd.DataFrame, path: str | Path, *, partition_cols: list[str] | None = None
) -> str | Path:
    """Write a DataFrame as CSV (`.csv`, `.csv.gz`, ...) or Parquet (by suffix), atomically,
    local or URL; with `partition_cols`, a partitioned Parquet folder published whole
    (`published_folder`)."""
    # attrs (the source path a table was read from) would be stored in the Parquet metadata:
    # the same data read from another folder would give different bytes (and a new dvc.lock).
    frame = frame.copy(deep=False)
    frame.attrs = {}
    if partition_cols:
        with published_folder(path) as folder:
            frame.to_parquet(folder, index=False, partition_cols=partition_cols)
    else:
        with atomic_path(path) as temporary:
            if is_csv(path):
                _write_csv(frame, temporary, str(path))
            else:
                frame.to_parquet(temporary, index=False)
    return path if is_url(path) else Path(path)


def _write_csv(frame: pd.DataFrame, temporary: Path, target: str) -> None:
    """CSV compressed as the target's suffix says (the temporary's name says nothing). gzip
    without a name or time in its header: the same table gives the same bytes (dvc.lock)."""
    lower = target.lower()
    if lower.endswith(".gz"):
        with (
            open(temporary, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
            TextIOWrapper(zipped, encoding="utf-8", newline="") as text,
        ):
            frame.to_csv(text, index=False)
        return
    method = next((m for suffix, m in _COMPRESSIONS.items() if lower.endswith(suffix)), None)
    frame.to_csv(temporary, index=False, compression=method)


def require_interim_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    """InputError naming the first missing column when `frame` is not an interim table."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(
            f"not an interim table (run `latam data make` first): missing {', '.join(missing)}",
            file=frame.attrs.get("source"),
            column=missing[0],
        )
