"""Recent delay rates: how late SCL, an airline, a route or a scheduled slot has been lately.

Why: delays drift (at SCL, 22.6 % of November–December 2017 flights left late against 17.6 %
in January–October) and rates learnt once from the training rows cannot follow; a rate over
the last 7–28 days can. Only days strictly before a flight's scheduled day count: a deployed
model knows yesterday's departures, not today's, so no row sees its own or a same-day outcome.

`OutcomeHistory` is a compact table (key, day) -> (delayed, flights), kept in the model
artifact and extended as outcomes arrive (`DelayModel.record_outcomes`, `latam outcomes`).
When it ends before a flight's day the window slides back to end on its last recorded day:
stale, but never empty.
"""

from __future__ import annotations

import numpy as np

DAY_BITS = 20  # day numbers since 1970-01-01 fit in 20 bits until the year 4840


def day_numbers(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each (year, month, day), NaN where any part is missing."""
    known = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    out = np.full(len(month), np.nan)
    if known.any():
        months = ((year[known] - 1970) * 12 + month[known] - 1).astype("int64").astype("datetime64[M]")
        dates = months.astype("datetime64[D]") + (day[known] - 1).astype("int64").astype("timedelta64[D]")
        out[known] = dates.astype("int64")
    return out


class OutcomeHistory:
    """Delayed and flown counts per (key, day) for one key (integer codes, -1 unknown)."""

    def __init__(self) -> None:
        self.composite = np.empty(0, dtype=np.int64)  # key << DAY_BITS | day, sorted
        self.delayed = np.empty(0, dtype=np.int64)
        self.flights = np.empty(0, dtype=np.int64)
        self._sums()

    def _sums(self) -> None:
        # Prefix sums: any window of one key is two lookups and a difference.
        self.delayed_sum = np.concatenate([[0], np.cumsum(self.delayed)])
        self.flights_sum = np.concatenate([[0], np.cumsum(self.flights)])

    @property
    def days(self) -> np.ndarray:
        return self.composite & ((1 << DAY_BITS) - 1)

    def record(self, keys: np.ndarray, days: np.ndarray, delayed: np.ndarray) -> None:
        """Add outcomes. The days given replace what was stored for those days, so feeding
        the same day twice (or a corrected day) never double counts."""
        usable = (keys >= 0) & ~np.isnan(days)
        fresh_days = np.unique(days[usable].astype(np.int64))
        keep = ~np.isin(self.days, fresh_days)
        composite = (keys[usable] << DAY_BITS) | days[usable].astype(np.int64)
        unique, inverse = np.unique(composite, return_inverse=True)
        new_delayed = np.bincount(inverse, weights=delayed[usable], minlength=len(unique)).astype(np.int64)
        new_flights = np.bincount(inverse, minlength=len(unique)).astype(np.int64)
        composite = np.concatenate([self.composite[keep], unique])
        order = np.argsort(composite, kind="stable")
        self.composite = composite[order]
        self.delayed = np.concatenate([self.delayed[keep], new_delayed])[order]
        self.flights = np.concatenate([self.flights[keep], new_flights])[order]
        self._sums()

    def window(self, keys: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(delayed, flights) of each key over days start <= day < end (integer arrays)."""
        base = np.where(keys >= 0, keys, 0) << DAY_BITS
        low = np.searchsorted(self.composite, base | start)
        high = np.searchsorted(self.composite, base | end)
        delayed = self.delayed_sum[high] - self.delayed_sum[low]
        flights = self.flights_sum[high] - self.flights_sum[low]
        unknown = keys < 0
        return np.where(unknown, 0, delayed), np.where(unknown, 0, flights)
