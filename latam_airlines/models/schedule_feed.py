"""Feed a saved or served model its planned schedule: the flights planned to leave SCL on the
coming days, so the planned-schedule counts (features "schedule": flights that day, that hour,
within +-60 min, of the airline and of the destination, against the training weekday norm) see
the real schedule instead of reading "a typical day".

The model's schedule book (`DelayModel.record_schedule`) only adds flights; this module keeps
what was fed as a table of flights keyed per flight (`fed_schedule`), so feeding is idempotent
per flight: a re-fed flight replaces itself (a retimed flight moves, it is not counted twice),
a partial day adds to the day. On a change the book is rebuilt from the snapshot taken before
the first feed (the training schedule) plus every fed flight.

A flight's key is its scheduled day, airline code (`Emp-I`, else `OPERA`) and flight number
(`Vlo-I`) when the row has a number; without one: day, airline, type, destination and minute,
and its occurrence among identical rows (two such flights at one minute stay two when a batch
lists both). Without a number a retimed flight cannot be told from a new one (it would count
at both times): feeds that retime flights need `Vlo-I`.

Shared by `latam schedule`, the API's POST /schedule and the daily DAG's schedule task.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.models.feed_tiers import TIERS

SCL = "SCEL"  # the airport the model scores (Ori-I of every planned flight)
REQUIRED_COLUMNS: tuple[str, ...] = ("Fecha-I", "OPERA", "TIPOVUELO", "Des-I")
# Columns a planned flight may carry (the raw challenge spelling); others in a file are ignored.
OPTIONAL_COLUMNS: tuple[str, ...] = ("Vlo-I", "Emp-I", "Ori-I")
# What the feed keeps per flight: its key and the fields the schedule counts read.
FEED_COLUMNS: list[str] = ["flight", "Fecha-I", "OPERA", "TIPOVUELO", "Des-I"]
_SCHEDULE_STATE = ("schedule_", "schedule_ledger_", "schedule_days_")


# ------------------------------------------------------------------ the planned flights
def _flight_numbers(values: pd.Series) -> pd.Series:
    """Flight numbers as text ("226", not "226.0" from a numeric CSV column); None if missing."""

    def text(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return None
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        return str(value).strip() or None

    return values.astype(object).map(text)


def check_schedule(table: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Planned flights (FEED_COLUMNS, one row per flight) from a raw-format table, or InputError
    naming the file, row, column and value: a missing column, an empty or unparseable
    `Fecha-I`, a flight not leaving SCL (`Ori-I`), or two rows with one key and different data
    (the same flight listed twice identically is one flight)."""
    from latam_airlines.validation import TableChecker, validate_table

    if "Des-I" not in table.columns and "Des_I" in table.columns:
        table = table.rename(columns={"Des_I": "Des-I"})
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise InputError(
            f"a planned schedule needs the columns {', '.join(REQUIRED_COLUMNS)}; missing {', '.join(missing)}",
            file=file, column=missing[0],
        )  # fmt: skip
    if table.empty:
        raise InputError("the planned schedule holds no flight", file=file)
    table = table[[c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in table.columns]]
    table = table.reset_index(drop=True)
    checked = validate_table(table, file, required=REQUIRED_COLUMNS)
    checker = TableChecker(table, file)
    if "Ori-I" in table.columns:
        origin = checked["Ori-I"].astype("string").str.strip().str.upper()
        checker.fail(
            (origin.notna() & (origin != SCL)).to_numpy(), "Ori-I",
            f"only flights leaving SCL ({SCL}) count in its schedule",
        )  # fmt: skip
    when = pd.to_datetime(checked["Fecha-I"])
    flights = pd.DataFrame(
        {
            "Fecha-I": when.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "OPERA": checked["OPERA"].astype(str).str.strip(),
            "TIPOVUELO": checked["TIPOVUELO"].astype(str),
            "Des-I": checked["Des-I"].astype(str).str.strip(),
        }
    )
    day = when.dt.strftime("%Y-%m-%d")
    number = (
        _flight_numbers(checked["Vlo-I"]) if "Vlo-I" in checked.columns else pd.Series(None, index=day.index)
    )
    airline = flights["OPERA"]
    if "Emp-I" in checked.columns:
        code = checked["Emp-I"].astype("string").str.strip()
        airline = code.where(code.notna() & (code != ""), airline).astype(str)
    numbered = number.notna().to_numpy()
    identity = (
        day
        + "|"
        + flights["OPERA"]
        + "|"
        + flights["TIPOVUELO"]
        + "|"
        + flights["Des-I"]
        + "|"
        + flights["Fecha-I"].str[11:16]
    )
    occurrence = identity.groupby(identity).cumcount().astype(str)
    flights.insert(
        0, "flight",
        np.where(numbered, day + "|" + airline + "|" + number.astype(str), identity + "|#" + occurrence),
    )  # fmt: skip
    _check_unique(flights, checker)
    return flights.drop_duplicates().reset_index(drop=True)


def _check_unique(flights: pd.DataFrame, checker: Any) -> None:
    """Rows sharing a flight key must agree on every field (identical rows are one flight)."""
    distinct = flights.drop_duplicates()
    clash = distinct["flight"].duplicated(keep=False).to_numpy()
    if not clash.any():
        return
    key = distinct["flight"].to_numpy()[np.flatnonzero(clash)[0]]
    rows = flights.index[flights["flight"] == key].tolist()
    versions = flights.loc[rows, FEED_COLUMNS[1:]].drop_duplicates()
    first, second = (row.to_dict() for _, row in versions.head(2).iterrows())
    differ = [column for column in FEED_COLUMNS[1:] if first[column] != second[column]]
    bad = np.zeros(len(checker.frame), dtype=bool)
    bad[rows[1:]] = True  # the first repeated row is the one named
    checker.fail(
        bad & (flights[differ[0]] != first[differ[0]]).to_numpy(), differ[0],
        f"flight {key.replace('|', ' ')} is listed twice with different {', '.join(differ)} "
        f"({first[differ[0]]!r} vs {second[differ[0]]!r})",
    )  # fmt: skip


def read_schedule(path: str | Path) -> pd.DataFrame:
    """The planned flights of a table (CSV/Parquet, local or s3://; raw challenge columns)."""
    from latam_airlines.io import read_table

    return check_schedule(read_table(path), str(path))


def combine_schedules(tables: Sequence[pd.DataFrame], what: str) -> pd.DataFrame:
    """Checked schedules (e.g. one file per day) as one, refusing a flight two of them contradict."""
    from latam_airlines.validation import TableChecker

    flights = pd.concat(list(tables), ignore_index=True).drop_duplicates().reset_index(drop=True)
    _check_unique(flights, TableChecker(flights, what))
    return flights


# ------------------------------------------------------------------ the model's schedule book
def _steps(model: Any) -> list[Any]:
    """The fitted feature steps that count the planned schedule (one per tier reading it)."""
    pipeline = model.pipeline
    tiers = [getattr(pipeline, tier, None) for tier in TIERS]
    if not any(tier is not None for tier in tiers):
        tiers = [pipeline]  # a plain pipeline
    steps = [getattr(tier, "named_steps", {}).get("features") for tier in tiers if tier is not None]
    return [step for step in steps if getattr(step, "schedule_", None) is not None]


def reads_schedule(model: Any) -> bool:
    """True when some tier of `model` reads planned-schedule counts."""
    return bool(_steps(model))


def fed_schedule(model: Any) -> pd.DataFrame:
    """The flights fed to `model` so far (FEED_COLUMNS), empty when none."""
    fed = getattr(model, "schedule_feed", None)
    return fed.copy() if isinstance(fed, pd.DataFrame) else pd.DataFrame(columns=FEED_COLUMNS, dtype=object)


@dataclass
class ScheduleChange:
    """What a feed changed: flights new to the feed, replaced (same key, other data), unchanged."""

    new: int
    replaced: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.new or self.replaced)


def merge_schedule(fed: pd.DataFrame, flights: pd.DataFrame) -> tuple[pd.DataFrame, ScheduleChange]:
    """`fed` with `flights` merged in (a flight of `flights` replaces the fed one of its key)."""
    stored = fed.set_index("flight")
    incoming = flights.set_index("flight")
    known = incoming.index.isin(stored.index)
    same = np.zeros(len(incoming), dtype=bool)
    if known.any():
        previous = stored.loc[incoming.index[known], FEED_COLUMNS[1:]].to_numpy()
        same[known] = (previous == incoming.loc[known, FEED_COLUMNS[1:]].to_numpy()).all(axis=1)
    change = ScheduleChange(int((~known).sum()), int((known & ~same).sum()), int(same.sum()))
    kept = stored[~stored.index.isin(incoming.index)]
    merged = pd.concat([kept, incoming]).reset_index()[FEED_COLUMNS]
    return merged.sort_values(["Fecha-I", "flight"], kind="stable").reset_index(drop=True), change


def apply_schedule(model: Any, flights: pd.DataFrame) -> ScheduleChange:
    """Record checked planned flights (`check_schedule`) in `model`, in place: its schedule
    book becomes the training schedule plus every fed flight, each once. InputError when the
    model reads no planned-schedule counts."""
    steps = _steps(model)
    if not steps:
        raise InputError(
            "this model reads no planned-schedule counts (train it with train.stale_schedule: true "
            "or a *_schedule feature set); nothing to feed",
            value=model.metadata.get("config", {}).get("features"),
        )
    merged, change = merge_schedule(fed_schedule(model), flights)
    if not change.changed:
        return change
    base = getattr(model, "schedule_base", None)
    if base is None:  # before the first feed: the book holds the training schedule only
        base = [{name: copy.deepcopy(getattr(step, name)) for name in _SCHEDULE_STATE} for step in steps]
        model.schedule_base = base
    for step, state in zip(steps, base):
        for name in _SCHEDULE_STATE:
            setattr(step, name, copy.deepcopy(state[name]))
    records = merged[FEED_COLUMNS[1:]].copy()
    records["MES"] = records["Fecha-I"].str[5:7].astype(int)  # a field every record carries
    model.record_schedule(records)
    model.schedule_feed = merged
    return change


# ------------------------------------------------------------------ what the model knows
def schedule_state(model: Any) -> dict[str, Any]:
    """For /model and the commands: does the model read planned-schedule counts, is a schedule
    fed, how many flights, and which days (first and last)."""
    fed = fed_schedule(model)
    days = sorted(set(fed["Fecha-I"].str[:10])) if len(fed) else []
    return {
        "reads_schedule": reads_schedule(model),
        "fed": bool(days),
        "flights": int(len(fed)),
        "days": len(days),
        "from": days[0] if days else None,
        "until": days[-1] if days else None,
    }


def _day_number(day: str) -> int:
    try:
        return int(np.datetime64(str(day)[:10], "D").astype(np.int64))
    except ValueError:
        raise InputError("a day is YYYY-MM-DD", value=day) from None


def day_counts(model: Any, day: str) -> dict[str, Any]:
    """The scheduled flights the model counts on `day` (YYYY-MM-DD) at SCL, per hour, per airline
    and per destination, read from the book its schedule counts use; `booked`: the book holds
    the day (else a flight of it reads "a typical day")."""
    steps = _steps(model)
    if not steps:
        raise InputError("this model reads no planned-schedule counts", value=model.metadata.get("version"))
    step = steps[0]
    number = _day_number(day)
    start = number * 1440

    def window(key: tuple[str, ...], codes: np.ndarray, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
        return step.schedule_[key].window(codes, begin.astype(np.int64), end.astype(np.int64))[1]

    hours = start + 60 * np.arange(25)
    by_hour = window((), np.zeros(24, dtype=np.int64), hours[:-1], hours[1:])

    def per_value(field: str) -> dict[str, int]:
        if (field,) not in step.schedule_:
            return {}
        values = step.vocabulary_[field]
        codes = np.arange(len(values), dtype=np.int64)
        counts = window((field,), codes, np.full(len(codes), start), np.full(len(codes), start + 1440))
        return {str(values[i]): int(counts[i]) for i in np.flatnonzero(counts)}

    return {
        "day": str(np.datetime64(number, "D")),
        "booked": bool(np.isin(number, step.schedule_days_)),
        "flights": int(by_hour.sum()),
        "by_hour": [int(count) for count in by_hour],
        "by_airline": per_value("OPERA"),
        "by_destination": per_value("Des_I"),
    }


def schedule_status(model: Any, flights: Any, regime: np.ndarray) -> list[str | None]:
    """Per flight, what its planned-schedule counts stood on: "booked" (the book holds its day),
    "typical day" (no schedule fed for the day: the counts read the weekday norm) or None (the
    regime that answered reads no schedule counts, or the flight has no day)."""
    pipeline = model.pipeline
    tiered = hasattr(pipeline, "decide")
    prepared = model.prepare(flights)
    status: list[str | None] = [None] * len(prepared)
    for name in set(np.asarray(regime).tolist()):
        tier = getattr(pipeline, {"fed": "full"}.get(name, name), None) if tiered else pipeline
        step = getattr(tier, "named_steps", {}).get("features")
        if getattr(step, "schedule_", None) is None:
            continue
        rows = np.flatnonzero(np.asarray(regime) == name)
        days = step.flight_days(prepared.iloc[rows])
        booked = step.booked_days(days)
        for row, day, is_booked in zip(rows, days, booked):
            if not np.isnan(day):
                status[row] = "booked" if is_booked else "typical day"
    return status
