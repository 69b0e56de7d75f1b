"""One validation of a flight record, shared by the API, `latam predict`, `train`, `outcomes` and
`data make`: the same rules, a scalar form for the API's hot path and a vectorised one for files.

Policy (README "Flight records: what is accepted"):
- Times (`Fecha-I`, `Fecha-O`) are Santiago local time (`America/Santiago`, SCL's clock), written
  `YYYY-MM-DD HH:MM[:SS[.fraction]]` (a space or `T` between date and time). A time with a UTC
  offset (`Z`, `-03:00`, `+0000`) is converted to Santiago local time; fractions of a second are
  dropped. Anything else (a date alone, ISO week or ordinal dates, `2017/01/02`) is refused.
- Dates are real calendar days with years YEAR_MIN..YEAR_MAX (the data's horizon).
- Fields agree with each other: AÑO, MES, DIA, DIANOM and MESNOM name the day of `Fecha-I` or of
  `Fecha-O` (the challenge file dates them by the operation), HORA and MIN the time of `Fecha-I`;
  without a date, DIA exists in MES (in AÑO when given), DIANOM is that day's weekday, MESNOM
  MES's name. `Fecha-O` lies within MAX_EARLY_MINUTES before and MAX_DELAY_MINUTES after `Fecha-I`.
- Text fields hold at most MAX_TEXT_LENGTH characters (they are codes and names).
Problems name the row, the field and the value, shortened to SHOWN_VALUE_LENGTH characters.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from latam_airlines.data.schema import DAY_NAMES, MONTH_ABBREVIATIONS, PERIODS, TIPOVUELO_VALUES
from latam_airlines.errors import InputError

TIMEZONE = "America/Santiago"
SANTIAGO = ZoneInfo(TIMEZONE)
YEAR_MIN, YEAR_MAX = 1950, 2100
MAX_TEXT_LENGTH = 64
SHOWN_VALUE_LENGTH = 80
MAX_EARLY_MINUTES = 24 * 60  # a departure a day ahead of schedule is already implausible
MAX_DELAY_MINUTES = 2 * 24 * 60  # two days late: beyond it, a date is wrong, not a flight late

DATE_FORMAT_HELP = "YYYY-MM-DD HH:MM[:SS], Santiago local time or with a UTC offset"
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_DATETIME_PATTERN = (
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.\d{1,9})?)?\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


@dataclass(frozen=True)
class FieldRule:
    """What one flight field accepts: a JSON type, then an optional range or vocabulary."""

    kind: type  # str or int
    description: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] | None = None
    max_length: int | None = None  # strings


def _text(description: str) -> FieldRule:
    return FieldRule(str, f"{description} (at most {MAX_TEXT_LENGTH} characters)", max_length=MAX_TEXT_LENGTH)


# Every field of a flight record any entry point accepts: the API's minimal record, the raw file's
# columns and the processed table's. Files may hold other columns (they are ignored); the API not.
FIELD_RULES: dict[str, FieldRule] = {
    "OPERA": _text("operating airline, as in the training data"),
    "TIPOVUELO": FieldRule(str, "I (international) or N (national)", choices=TIPOVUELO_VALUES),
    "MES": FieldRule(int, "scheduled month, 1-12", low=1, high=12),
    "Fecha-I": FieldRule(str, f"scheduled date-time, {DATE_FORMAT_HELP}, e.g. 2017-01-01 23:30:00"),
    "Des-I": _text("destination ICAO code"),
    "Des_I": _text("destination ICAO code (processed-table name)"),
    "Ori-I": _text("origin ICAO code"),
    "Emp-I": _text("scheduled airline code"),
    "DIANOM": FieldRule(str, "day name, Lunes-Domingo", choices=tuple(DAY_NAMES)),
    "MESNOM": FieldRule(str, "month abbreviation, Ene-Dic", choices=tuple(MONTH_ABBREVIATIONS)),
    "periodo_dia": FieldRule(str, "mañana, tarde or noche", choices=tuple(PERIODS)),
    "DIA": FieldRule(int, "scheduled day of month, 1-31", low=1, high=31),
    "HORA": FieldRule(int, "scheduled hour, 0-23", low=0, high=23),
    "MIN": FieldRule(int, "scheduled minute, 0-59", low=0, high=59),
    "AÑO": FieldRule(int, f"scheduled year, {YEAR_MIN}-{YEAR_MAX}", low=YEAR_MIN, high=YEAR_MAX),
    "temporada_alta": FieldRule(int, "1 in high season, else 0", low=0, high=1),
    "Vlo_change": FieldRule(int, "1 if the operated flight number changed, else 0", low=0, high=1),
    "Emp_change": FieldRule(int, "1 if the operating airline code changed, else 0", low=0, high=1),
}
# File-only columns (raw challenge format and processed extras).
FILE_RULES: dict[str, FieldRule] = {
    **FIELD_RULES,
    "Fecha-O": FieldRule(str, f"operation date-time, {DATE_FORMAT_HELP}"),
    **{name: _text(name) for name in ("Ori-O", "Des-O", "Emp-O", "SIGLAORI", "SIGLADES", "Ori_I", "Emp_I")},
    **{name: _text("flight number") for name in ("Vlo-I", "Vlo-O")},
}
DATE_FIELDS = ("Fecha-I", "Fecha-O")
_CHOICE_LOOKUP = {
    field: {choice.casefold(): choice for choice in rule.choices}
    for field, rule in FILE_RULES.items()
    if rule.choices
}


def shown(value: Any, limit: int = SHOWN_VALUE_LENGTH) -> Any:
    """`value` as an error message shows it: short scalars as they are, the rest cut to `limit`
    characters (a 1 MB field is answered with its first 80 characters, never echoed whole)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, dict)):
        if len(value) <= 8 and len(repr(value)) <= limit:
            return value
        kind = "list" if isinstance(value, list) else "object"
        return f"<{kind} of {len(value)} item(s)>"
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


# ----------------------------------------------------------------------------- scalar (API)
def parse_datetime(text: str) -> dt.datetime | None:
    """`text` as a naive Santiago-local datetime (seconds precision), None if not a valid time
    by the policy above (format, real calendar day, year within the horizon)."""
    match = _DATETIME.fullmatch(text.strip()) if len(text) <= 40 else None
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        when = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    if offset is not None:
        if offset == "Z":
            delta = dt.timedelta(0)
        else:
            digits = offset[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 14 or minutes > 59:
                return None
            delta = dt.timedelta(hours=hours, minutes=minutes) * (-1 if offset[0] == "-" else 1)
        try:
            aware = when.replace(tzinfo=dt.timezone(delta))
            when = aware.astimezone(SANTIAGO).replace(tzinfo=None)
        except (OverflowError, ValueError):
            return None
    if not YEAR_MIN <= when.year <= YEAR_MAX:
        return None
    return when


@functools.lru_cache(maxsize=4096)
def scheduled_time(text: str) -> tuple[str, dt.datetime] | None:
    """(canonical `YYYY-MM-DD HH:MM:SS` text, datetime) of a valid time, else None; memoised for
    the API's hot path (bounded: 4,096 texts of at most 40 characters)."""
    when = parse_datetime(text)
    return None if when is None else (when.strftime("%Y-%m-%d %H:%M:%S"), when)


@functools.lru_cache(maxsize=4096)
def _calendar_of(when: dt.datetime) -> tuple[tuple[str, Any], ...]:
    return (
        ("AÑO", when.year), ("MES", when.month), ("DIA", when.day), ("HORA", when.hour), ("MIN", when.minute),
        ("DIANOM", DAY_NAMES[when.weekday()]), ("MESNOM", MONTH_ABBREVIATIONS[when.month - 1]),
    )  # fmt: skip


def date_problem(field: str, value: str) -> str:
    """Why `value` is not a time for `field` (parse_datetime returned None)."""
    match = _DATETIME.fullmatch(value.strip()) if len(value) <= 40 else None
    if match is None:
        return f"{field} must be {DATE_FORMAT_HELP}"
    return f"{field} must be a real date-time with a year from {YEAR_MIN} to {YEAR_MAX}"


def days_in_month(month: int, year: int | None) -> int:
    """Days of `month` (in `year`; without a year February has 29)."""
    return calendar.monthrange(year if year is not None else 2000, month)[1]


def record_problems(record: Mapping[str, Any], scheduled: dt.datetime | None) -> list[tuple[str, str]]:
    """(field, message) for every field of a type-checked record contradicting another one.

    `scheduled` is the parsed `Fecha-I` (None when absent)."""
    found: list[tuple[str, str]] = []
    year, month, day = record.get("AÑO"), record.get("MES"), record.get("DIA")
    if scheduled is not None:
        for field, value in _calendar_of(scheduled):
            given = record.get(field)
            if given is not None and given != value:
                found.append((field, f"{field} {given!r} contradicts Fecha-I (which says {value!r})"))
        return found
    if month is not None and day is not None and day > days_in_month(month, year):
        where = f"{MONTH_ABBREVIATIONS[month - 1]} {year}" if year is not None else f"month {month}"
        found.append(("DIA", f"DIA {day} does not exist in {where}"))
        return found
    weekday = record.get("DIANOM")
    if weekday is not None and None not in (year, month, day):
        actual = DAY_NAMES[dt.date(year, month, day).weekday()]
        if weekday != actual:
            found.append(
                ("DIANOM", f"DIANOM {weekday!r} contradicts {year}-{month:02d}-{day:02d} ({actual})")
            )
    name = record.get("MESNOM")
    if name is not None and month is not None and name != MONTH_ABBREVIATIONS[month - 1]:
        found.append(("MESNOM", f"MESNOM {name!r} contradicts MES {month}"))
    return found


def canonical_choice(field: str, value: str) -> str | None:
    """The spelling `field` uses for `value` (compared case-insensitively), None if not a choice."""
    return _CHOICE_LOOKUP[field].get(value.strip().casefold())


# ----------------------------------------------------------------------------- vectorised (files)
def parse_datetimes(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(naive Santiago-local datetimes, bad-row mask) of a column by the policy above; missing
    values are NaT and not bad. Datetime columns are converted (aware ones) and range-checked."""
    index = values.index
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(SANTIAGO).dt.tz_localize(None)
        years = parsed.dt.year
        parsed = parsed.where(~((years < YEAR_MIN) | (years > YEAR_MAX)).fillna(False))
        parsed = parsed.astype("datetime64[ns]")
        missing = parsed.isna().to_numpy()
    else:
        missing = values.isna().to_numpy()
        text = values.astype("string").str.strip()
        parts = text.str.extract(_DATETIME_PATTERN)
        numbers = pd.DataFrame(
            {
                name: pd.to_numeric(parts[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                for name in ("year", "month", "day", "hour", "minute", "second")
            },
            index=index,
        )
        numbers["second"] = numbers["second"].fillna(0)
        # pandas would roll 24:00 or 10:60 over to the next hour or day: refuse them instead.
        impossible = (
            (numbers["year"] < YEAR_MIN) | (numbers["year"] > YEAR_MAX) | (numbers["hour"] > 23)
            | (numbers["minute"] > 59) | (numbers["second"] > 59)
        )  # fmt: skip
        numbers.loc[impossible, "year"] = np.nan
        parsed = pd.to_datetime(numbers, errors="coerce").astype("datetime64[ns]")
        offset = parts["offset"].astype(object).where(parts["offset"].notna(), None)
        shifted = offset.notna().to_numpy() & parsed.notna().to_numpy()
        if shifted.any():
            text_offset = offset[shifted].str.replace(":", "", regex=False)
            sign = np.where(text_offset.str[0] == "-", -1, 1)
            hours = pd.to_numeric(text_offset.str[1:3], errors="coerce").fillna(0).to_numpy()
            minutes = pd.to_numeric(text_offset.str[3:5], errors="coerce").fillna(0).to_numpy()
            valid = (hours <= 14) & (minutes <= 59)
            delta = pd.to_timedelta(
                np.where(text_offset == "Z", 0, sign * (hours * 60 + minutes)), unit="min"
            )
            utc = (parsed[shifted] - delta.to_numpy()).dt.tz_localize("UTC")
            local = utc.dt.tz_convert(SANTIAGO).dt.tz_localize(None).astype("datetime64[ns]")
            local[~valid] = pd.NaT
            parsed = parsed.copy()
            parsed[shifted] = local
    years = parsed.dt.year
    outside = (years < YEAR_MIN) | (years > YEAR_MAX)
    parsed = parsed.where(~outside.fillna(False))
    bad = parsed.isna().to_numpy() & ~missing
    return pd.Series(parsed.to_numpy(), index=index, name=values.name), bad


class TableChecker:
    """Raises InputError on the first bad row of a file's table (row, column, shortened value)."""

    def __init__(self, frame: pd.DataFrame, file: str | None) -> None:
        self.frame = frame
        self.file = file
        self.csv = bool(file) and ".csv" in str(file).lower()

    def row_name(self, position: int) -> str:
        if self.csv:
            return f"row {position + 2} (line of the file, header is line 1)"
        return f"row {position + 1}"

    def fail(self, bad: np.ndarray, column: str, message: str, values: pd.Series | None = None) -> None:
        if not bad.any():
            return
        position = int(np.flatnonzero(bad)[0])
        source = self.frame[column] if values is None else values
        value = source.iloc[position]
        count = int(bad.sum())
        more = f"; {count} such row(s)" if count > 1 else ""
        raise InputError(
            f"{message} in {self.row_name(position)}{more}",
            file=self.file, column=column, value=None if _missing(value) else shown(value),
        )  # fmt: skip


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def validate_table(
    frame: pd.DataFrame, file: str | None = None, required: tuple[str, ...] = ()
) -> pd.DataFrame:
    """`frame` with every known field checked by the rules above, or InputError naming the first
    bad row, column and value. Returns a copy whose date columns are parsed (naive Santiago local
    time), choice columns spelled as the rules spell them and number columns numeric."""
    checker = TableChecker(frame, file)
    out = frame.copy()
    present = [column for column in FILE_RULES if column in frame.columns]
    for column in required:
        if column in frame.columns:
            checker.fail(frame[column].isna().to_numpy(), column, f"{column} is required but empty")
    for column in present:
        rule = FILE_RULES[column]
        values = frame[column]
        given = values.notna().to_numpy()
        if column in DATE_FIELDS:
            parsed, bad = parse_datetimes(values)
            checker.fail(
                bad,
                column,
                f"{column} must be a real date-time, {DATE_FORMAT_HELP}, year {YEAR_MIN}-{YEAR_MAX}",
            )
            out[column] = parsed
        elif rule.kind is int:
            numbers = pd.to_numeric(values, errors="coerce")
            if values.dtype == bool:
                numbers = pd.Series(np.nan, index=values.index)
            checker.fail(given & numbers.isna().to_numpy(), column, f"{column} must be an integer")
            whole = numbers.fillna(0).to_numpy() % 1 == 0
            checker.fail(given & ~whole, column, f"{column} must be an integer")
            outside = given & ((numbers < rule.low) | (numbers > rule.high)).fillna(False).to_numpy()
            checker.fail(outside, column, f"{column} must be from {rule.low} to {rule.high}")
            out[column] = numbers if numbers.isna().any() else numbers.astype("int64")
        else:
            text = values.astype("string")
            if rule.max_length is not None:
                long = given & (text.str.len() > rule.max_length).fillna(False).to_numpy()
                checker.fail(long, column, f"{column} holds more than {rule.max_length} characters")
            if rule.choices is not None:
                lookup = _CHOICE_LOOKUP[column]
                canonical = text.str.strip().str.casefold().map(lookup)
                checker.fail(
                    given & canonical.isna().to_numpy(),
                    column,
                    f"{column} must be one of {', '.join(rule.choices)}",
                )
                out[column] = canonical.astype(object).where(given, None)
    _check_consistency(out, checker)
    return out


def _check_consistency(out: pd.DataFrame, checker: TableChecker) -> None:
    scheduled = out.get("Fecha-I", None)
    operated = out.get("Fecha-O", None)
    if scheduled is not None and operated is not None:
        minutes = ((operated - scheduled).dt.total_seconds() / 60).to_numpy()
        wild = ~np.isnan(minutes) & ((minutes < -MAX_EARLY_MINUTES) | (minutes > MAX_DELAY_MINUTES))
        checker.fail(
            wild, "Fecha-O",
            f"Fecha-O must lie within {MAX_EARLY_MINUTES // 60} h before and {MAX_DELAY_MINUTES // 60} h after Fecha-I",
        )  # fmt: skip
    dated = [series for series in (scheduled, operated) if series is not None]
    calendar_fields = {
        "AÑO": lambda when: when.dt.year, "MES": lambda when: when.dt.month, "DIA": lambda when: when.dt.day,
        "DIANOM": lambda when: pd.Series(np.asarray(DAY_NAMES + [None], dtype=object)[
            when.dt.day_of_week.fillna(7).astype(int).to_numpy()], index=when.index),
        "MESNOM": lambda when: pd.Series(np.asarray(MONTH_ABBREVIATIONS + [None], dtype=object)[
            (when.dt.month.fillna(13).astype(int) - 1).to_numpy()], index=when.index),
    }  # fmt: skip
    if dated:
        for field, of in calendar_fields.items():
            if field not in out:
                continue
            given = out[field]
            agrees = np.zeros(len(out), dtype=bool)
            undated = np.ones(len(out), dtype=bool)
            for when in dated:
                expected = of(when)
                agrees |= (given.astype(object) == expected.astype(object)).to_numpy()
                undated &= when.isna().to_numpy()
            bad = given.notna().to_numpy() & ~undated & ~agrees
            checker.fail(bad, field, f"{field} contradicts the date of Fecha-I/Fecha-O")
        if scheduled is not None:
            for field, of in (("HORA", lambda w: w.dt.hour), ("MIN", lambda w: w.dt.minute)):
                if field in out:
                    bad = out[field].notna().to_numpy() & scheduled.notna().to_numpy()
                    bad &= (out[field].astype(float) != of(scheduled).astype(float)).to_numpy()
                    checker.fail(bad, field, f"{field} contradicts the time of Fecha-I")
        return
    # No dates: the calendar fields must still name a real day.
    if "MES" in out and "DIA" in out:
        month = out["MES"].astype(float).to_numpy()
        day = out["DIA"].astype(float).to_numpy()
        year = out["AÑO"].astype(float).to_numpy() if "AÑO" in out else np.full(len(out), 2000.0)
        year = np.where(np.isnan(year), 2000.0, year)
        known = ~(np.isnan(month) | np.isnan(day))
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
        safe_month = np.where(known, month, 1).astype(int)
        limit = lengths[safe_month - 1] + ((safe_month == 2) & leap)
        checker.fail(known & (day > limit), "DIA", "DIA does not exist in that month (MES, AÑO)")
        if "DIANOM" in out and "AÑO" in out:
            whole = known & ~np.isnan(out["AÑO"].astype(float).to_numpy())
            dates = pd.to_datetime(
                pd.DataFrame(
                    {"year": year, "month": np.where(known, month, 1), "day": np.where(known, day, 1)}
                ),
                errors="coerce",
            )
            names = np.asarray(DAY_NAMES, dtype=object)[dates.dt.day_of_week.to_numpy()]
            given = out["DIANOM"].to_numpy()
            checker.fail(
                whole & pd.notna(given) & (given != names), "DIANOM", "DIANOM contradicts AÑO, MES, DIA"
            )
    if "MES" in out and "MESNOM" in out:
        month = out["MES"].astype(float).to_numpy()
        known = ~np.isnan(month) & pd.notna(out["MESNOM"].to_numpy())
        names = np.asarray(MONTH_ABBREVIATIONS + [None], dtype=object)[
            np.where(np.isnan(month), 13, month).astype(int) - 1
        ]
        checker.fail(known & (out["MESNOM"].to_numpy() != names), "MESNOM", "MESNOM contradicts MES")
