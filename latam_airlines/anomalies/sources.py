"""Find the flights of one year: a single file or a folder of yearly files, local or fsspec URL.

A folder holds files named with their year (`flights_2017.csv`, `flights_2018.parquet`, ...);
`latest` means the newest year in those names, as the original yearly job chose its input.
A single file may hold several years; `latest` then means the newest year inside it.
Files may be raw (SCL schema, read with `load_raw` + `make_dataset`) or an interim table.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.io import filesystem, full_name, read_table, table_columns

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
# Interim tables (written by `latam data make`) already carry these; raw files carry dif_min's inputs.
INTERIM_COLUMNS = ("Fecha-I", "Ori-I", "Des-I", "dif_min")
# A year in a file name: four digits 19xx/20xx not glued to other digits (flights_2017_01.csv -> 2017).
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class YearInput:
    """The files to read for one year, and that year (None: decide from the rows, single file)."""

    paths: tuple[str, ...]
    year: int | None


def is_table_file(name: str) -> bool:
    return name.lower().endswith(TABLE_SUFFIXES)


def year_in_name(name: str) -> int | None:
    """The year a file name carries, or None when it has none or several different ones."""
    base = name.rsplit("/", 1)[-1]
    years = {int(match) for match in _YEAR_IN_NAME.findall(base)}
    return years.pop() if len(years) == 1 else None


def parse_year(year: str | int) -> int | None:
    """`latest` -> None (decide later); a four-digit year -> int; anything else -> InputError."""
    text = str(year).strip().lower()
    if text == "latest":
        return None
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    raise InputError("expected a four-digit year or 'latest'", column="--year", value=str(year))


def yearly_files(folder: str) -> dict[int, list[str]]:
    """Table files directly in `folder`, grouped by the year in their names (unnamed ones skipped)."""
    fs, root = filesystem(folder)
    by_year: dict[int, list[str]] = {}
    for entry in sorted(fs.ls(root, detail=False)):
        name = entry.rsplit("/", 1)[-1]
        if name.startswith(".") or not is_table_file(name):
            continue
        year = year_in_name(name)
        if year is None:
            log.info("skipping %s: no single year in its name", name)
            continue
        by_year.setdefault(year, []).append(full_name(fs, entry))
    return by_year


def locate_year(location: str, year: str | int) -> YearInput:
    """The files to read for `year` (`latest` or YYYY) at `location` (a file or a folder)."""
    wanted = parse_year(year)
    fs, root = filesystem(location)
    try:
        found = fs.exists(root)
    except Exception as error:  # endpoint down, credentials refused
        raise InputError(f"cannot read ({error})", file=location) from None
    if not found:
        raise InputError("no such file or folder", file=location)
    if not fs.isdir(root) or is_table_file(root.rstrip("/")):  # a partitioned Parquet folder is a table
        if not fs.isdir(root) and fs.size(root) == 0:
            raise InputError("the file is empty", file=location)
        return YearInput(paths=(location,), year=wanted)
    by_year = yearly_files(location)
    if not by_year:
        raise InputError(
            f"no yearly flight files in this folder (expected names like flights_2017.csv or "
            f"flights_2018.parquet, suffixes {', '.join(TABLE_SUFFIXES)})",
            file=location,
        )
    chosen = max(by_year) if wanted is None else wanted
    if chosen not in by_year:
        raise InputError(
            f"no file for this year; years found: {', '.join(map(str, sorted(by_year)))}",
            file=location,
            value=chosen,
        )
    _reject_same_file_twice(by_year[chosen], location)
    return YearInput(paths=tuple(by_year[chosen]), year=chosen)


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return next(name[: -len(suffix)] for suffix in TABLE_SUFFIXES if name.lower().endswith(suffix))


def _reject_same_file_twice(paths: list[str], folder: str) -> None:
    """Several files of one year are parts and are read together (flights_2017_01.csv, ...),
    but the same name in two formats is one table twice: its flights would count double."""
    stems = [_stem(path) for path in paths]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        names = [path.rsplit("/", 1)[-1] for path, stem in zip(paths, stems) if stem == twice[0]]
        raise InputError(
            f"the same table in several formats ({', '.join(names)}); keep one of them",
            file=folder,
        )


# Airport codes are few and repeated on every row: read as categories, never as a Python
# string per flight (most of a large file's read and aggregation time otherwise).
AIRPORT_DTYPES = {"Ori-I": "category", "Des-I": "category"}


def _read_interim(path: str) -> pd.DataFrame:
    frame = read_table(path, list(INTERIM_COLUMNS), dtype=AIRPORT_DTYPES, require_rows=False)
    if not pd.api.types.is_datetime64_any_dtype(frame["Fecha-I"]):
        parsed = pd.to_datetime(frame["Fecha-I"], errors="coerce", format="mixed")
        if parsed.isna().any():
            bad = frame["Fecha-I"][parsed.isna()].iloc[0]
            raise InputError("unparseable date", file=path, column="Fecha-I", value=str(bad))
        frame["Fecha-I"] = parsed
    frame["dif_min"] = pd.to_numeric(frame["dif_min"], errors="coerce")
    return frame


def read_flight_delays(path: str) -> pd.DataFrame:
    """Flights with at least `Fecha-I, Ori-I, Des-I, dif_min`: an interim table as it is, US 2001
    records (`date, delay, origin, destination`) mapped directly, a raw SCL file through
    `load_raw` + `make_dataset`."""
    from latam_airlines.data.us2001 import US2001_COLUMNS, is_us2001, us2001_flights

    columns = table_columns(path)
    if all(column in columns for column in INTERIM_COLUMNS):
        frame = _read_interim(path)
    elif is_us2001(columns):  # US on-time records: the four columns straight, no full raw schema
        records = read_table(
            path,
            list(US2001_COLUMNS),
            dtype={"origin": "category", "destination": "category"},
            require_rows=False,
        )
        frame = us2001_flights(records, file=path)
    else:
        from latam_airlines.data import load_raw, make_dataset

        frame = make_dataset(load_raw(path))
    if frame.empty:
        raise InputError("the table has no rows", file=path)
    frame.attrs["source"] = path
    return frame


def load_year(location: str, year: str | int) -> tuple[pd.DataFrame, int]:
    """The flights of one year (by scheduled date `Fecha-I`) and that year."""
    chosen = locate_year(location, year)
    frames = [read_flight_delays(path) for path in chosen.paths]
    keep = list(INTERIM_COLUMNS)
    flights = (
        pd.concat([frame[keep] for frame in frames], ignore_index=True)
        if len(frames) > 1
        else frames[0][keep]
    )
    years = flights["Fecha-I"].dt.year
    present = sorted(int(value) for value in years.dropna().unique())
    target = chosen.year if chosen.year is not None else present[-1]
    if target not in present:
        raise InputError(
            f"no flights scheduled in this year; years present: {', '.join(map(str, present))}",
            file=", ".join(chosen.paths),
            value=target,
        )
    in_year = (years == target).to_numpy()
    # A yearly file is usually all one year: then no copy of millions of rows.
    selected = flights.reset_index(drop=True) if in_year.all() else flights[in_year].reset_index(drop=True)
    selected.attrs["source"] = ", ".join(chosen.paths)
    log.info("read %d flights of %d from %s", len(selected), target, selected.attrs["source"])
    return selected, target
