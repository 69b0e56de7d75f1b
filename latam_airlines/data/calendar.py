"""SCL calendar rules, one place for the interim table (`data make`) and model inputs.

High season, period of day, weekday names, scheduled-time parsing, day numbers and the
Chilean public-holiday features. The array rules take float arrays (NaN where unknown), so
they serve both the typed interim table and records that may lack a field.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from latam_airlines.data.schema import DAY_NAMES, PERIODS


def high_season(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """1.0 on Dec 15–Mar 3, Jul 15–Jul 31 or Sep 11–Sep 30 (inclusive), else 0.0; NaN stays NaN."""
    month_day = np.asarray(month, dtype="float64") * 100 + np.asarray(day, dtype="float64")
    season = (
        (month_day >= 1215) | (month_day <= 303) | ((month_day >= 715) & (month_day <= 731))
        | ((month_day >= 911) & (month_day <= 930))
    )  # fmt: skip
    return np.where(np.isnan(month_day), np.nan, season.astype("float64"))


def is_high_season(when: pd.Series) -> pd.Series:
    """`high_season` of scheduled times, as a boolean Series (NaT: False)."""
    season = high_season(when.dt.month.to_numpy(dtype="float64"), when.dt.day.to_numpy(dtype="float64"))
    return pd.Series(season == 1, index=when.index, name=when.name)


def period_codes(hour: np.ndarray) -> np.ndarray:
    """Position in PERIODS: mañana 05:00–11:59, tarde 12:00–18:59, noche 19:00–04:59; -1 unknown."""
    hour = np.asarray(hour, dtype="float64")
    codes = np.where((hour >= 5) & (hour < 12), 0, np.where((hour >= 12) & (hour < 19), 1, 2))
    return np.where(np.isnan(hour), -1, codes)


def period_of_day(when: pd.Series) -> pd.Categorical:
    """`period_codes` of scheduled times, as a categorical of PERIODS."""
    return pd.Categorical.from_codes(period_codes(when.dt.hour.to_numpy(dtype="float64")), categories=PERIODS)


def period_labels(hour: np.ndarray) -> np.ndarray:
    """PERIODS label of each hour, as an object array (None where the hour is unknown)."""
    return np.asarray([*PERIODS, None], dtype=object)[period_codes(hour)]


def weekday_names(weekday: np.ndarray) -> np.ndarray:
    """DAY_NAMES label of each weekday number (Monday 0), None where unknown (NaN)."""
    weekday = np.asarray(weekday, dtype="float64")
    names = np.full(len(weekday), None, dtype=object)
    known = ~np.isnan(weekday)
    names[known] = np.asarray(DAY_NAMES, dtype=object)[weekday[known].astype(int)]
    return names


def weekday_names_of_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """DAY_NAMES label of each (year, month, day), None where a part is missing or the date invalid."""
    known = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    names = np.full(len(month), None, dtype=object)
    if known.any():
        dates = pd.to_datetime(
            pd.DataFrame({"year": year[known], "month": month[known], "day": day[known]}), errors="coerce"
        )
        names[known] = weekday_names(dates.dt.day_of_week.to_numpy(dtype="float64"))
    return names


def scheduled_times(values: np.ndarray) -> pd.DatetimeIndex:
    """`Fecha-I` values as times (NaT where missing or unreadable)."""
    if values.dtype.kind == "M":
        return pd.DatetimeIndex(values)
    # The challenge writes "2017-01-01 23:30:00"; other spellings go through pandas' parser.
    parsed = pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    retry = parsed.isna().to_numpy() & ~pd.isna(values)
    if retry.any():  # offsets, fractions, a T: the validation's policy (Santiago local time)
        from latam_airlines.validation import parse_datetimes

        parsed[retry] = parse_datetimes(pd.Series(values[retry], dtype=object))[0].to_numpy()
    return pd.DatetimeIndex(parsed)


def day_numbers(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each (year, month, day), NaN where any part is missing."""
    known = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    out = np.full(len(month), np.nan)
    if known.any():
        months = ((year[known] - 1970) * 12 + month[known] - 1).astype("int64").astype("datetime64[M]")
        dates = months.astype("datetime64[D]") + (day[known] - 1).astype("int64").astype("timedelta64[D]")
        out[known] = dates.astype("int64")
    return out


# --------------------------------------------------------------------------- holidays
HOLIDAY_COUNTRY = "CL"  # SCL: Chilean public holidays
HOLIDAY_CAP = 10  # days to / since the nearest holiday, capped: further away counts as "far"
HOLIDAY_FEATURES: list[str] = [
    "holiday", "days_to_holiday", "days_since_holiday", "holiday_eve", "holiday_after",
    "long_weekend", "day_off",
]  # fmt: skip


def holiday_calendar(years: Sequence[int], country: str = HOLIDAY_COUNTRY) -> tuple[np.ndarray, np.ndarray]:
    """Sorted holiday dates of the given years, from the year before the first to two years
    after the last (a model trained on one year predicts the next), and the dates within 3
    days of a holiday that makes a long weekend (on Monday, Tuesday, Thursday or Friday).
    Computed once per fit."""
    import holidays

    span = range(min(years) - 1, max(years) + 3)
    dates = np.asarray(sorted(holidays.country_holidays(country, years=list(span))))
    days = dates.astype("datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    bridging = days[np.isin(weekday, [0, 1, 3, 4])]
    near = (bridging[:, None] + np.arange(-3, 4).astype("timedelta64[D]")).ravel()
    return days, np.unique(near)


def holiday_features(days: np.ndarray, calendar: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """HOLIDAY_FEATURES per flight, from its scheduled day (`day_numbers`; 0 where unknown).

    Why: holidays move traffic and delays like weekends do, and November–December hold
    holidays the month dummies never saw; proximity (eve, days to/since) is learnt from the
    training months' holidays and carries over.
    """
    holidays, long_weekend = calendar
    known = ~np.isnan(days)
    out = np.zeros((len(days), len(HOLIDAY_FEATURES)))
    if not known.any():
        return out
    dates = days[known].astype(np.int64).astype("datetime64[D]")
    position = np.searchsorted(holidays, dates)
    following = holidays[np.clip(position, 0, len(holidays) - 1)]
    previous = holidays[np.clip(position - 1, 0, len(holidays) - 1)]
    to_next = (following - dates).astype(np.int64)
    is_holiday = to_next == 0
    since = np.where(is_holiday, 0, (dates - previous).astype(np.int64))
    to_next, since = np.clip(to_next, 0, HOLIDAY_CAP), np.clip(since, 0, HOLIDAY_CAP)
    weekend = (dates.astype(np.int64) + 3) % 7 >= 5
    out[known] = np.column_stack(
        [
            is_holiday,
            to_next,
            since,
            to_next == 1,
            since == 1,
            np.isin(dates, long_weekend),
            is_holiday | weekend,
        ]
    )
    return out
