"""Recent delay rates: how late SCL, an airline, a route or a scheduled slot has been lately.

Why: delays drift (at SCL, 22.6 % of November–December 2017 flights left late against 17.6 %
in January–October) and rates learnt once from the training rows cannot follow; a rate over
the last 7–28 days can. Only days strictly before a flight's scheduled day count: a deployed
model knows yesterday's departures, not today's, so no row sees its own or a same-day outcome.

`OutcomeHistory` is a compact table (key, day) -> (delayed, flights), kept in the model
artifact and extended as outcomes arrive (`DelayModel.record_outcomes`, `latam outcomes`).
When it ends before a flight's day the window slides back to end on its last recorded day:
stale, but never empty. `latest` reads a key's last recorded day before a flight's (yesterday's
same slot or route), within a maximum age.

Recording is idempotent per flight (`FlightLedger`): a flight fed again replaces its earlier
outcome, a partial day adds to what the day holds, so a day may be fed in several batches
(intraday) and a corrected outcome fixes the counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DAY_BITS = 20  # day numbers since 1970-01-01 fit in 20 bits until the year 4840
MINUTE_BITS = 31  # minute numbers since 1970 (intraday histories) until the year 6053
# A flight's identity in the outcome feed (with its scheduled day): see FlightLedger.
IDENTITY_FIELDS: list[str] = ["OPERA", "TIPOVUELO", "Des_I", "HORA", "MIN"]


class OutcomeHistory:
    """Delayed and flown counts per (key, day) for one key (integer codes, -1 unknown)."""

    def __init__(self, bits: int = DAY_BITS) -> None:
        self.bits = bits  # DAY_BITS: per day; MINUTE_BITS: per scheduled minute (intraday)
        self.composite = np.empty(0, dtype=np.int64)  # key << bits | day, sorted
        self.delayed = np.empty(0, dtype=np.int64)
        self.flights = np.empty(0, dtype=np.int64)
        self._sums()

    def _sums(self) -> None:
        # Prefix sums: any window of one key is two lookups and a difference.
        self.delayed_sum = np.concatenate([[0], np.cumsum(self.delayed)])
        self.flights_sum = np.concatenate([[0], np.cumsum(self.flights)])

    @property
    def days(self) -> np.ndarray:
        return self.composite & ((1 << getattr(self, "bits", DAY_BITS)) - 1)

    def record(
        self, keys: np.ndarray, days: np.ndarray, delayed: np.ndarray, flights: np.ndarray | None = None
    ) -> None:
        """Add counts: `delayed` (and `flights`, default 1 each) per (key, day), summed with what
        is stored. Negative counts correct earlier ones (a re-fed flight: see FlightLedger)."""
        usable = (keys >= 0) & ~np.isnan(days)
        flights = np.ones(len(keys)) if flights is None else np.asarray(flights, dtype=float)
        composite = np.concatenate(
            [
                self.composite,
                (keys[usable] << getattr(self, "bits", DAY_BITS)) | days[usable].astype(np.int64),
            ]
        )
        unique, inverse = sorted_groups(composite)
        delayed_all = np.concatenate([self.delayed, np.asarray(delayed, dtype=float)[usable]])
        flights_all = np.concatenate([self.flights, flights[usable]])
        new_delayed = np.bincount(inverse, weights=delayed_all, minlength=len(unique))
        new_flights = np.bincount(inverse, weights=flights_all, minlength=len(unique))
        keep = new_flights > 0
        self.composite = unique[keep]
        self.delayed = np.rint(new_delayed[keep]).astype(np.int64)
        self.flights = np.rint(new_flights[keep]).astype(np.int64)
        self._sums()

    def window(self, keys: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(delayed, flights) of each key over days start <= day < end (integer arrays)."""
        base = np.where(keys >= 0, keys, 0) << getattr(self, "bits", DAY_BITS)
        low = np.searchsorted(self.composite, base | start)
        high = np.searchsorted(self.composite, base | end)
        delayed = self.delayed_sum[high] - self.delayed_sum[low]
        flights = self.flights_sum[high] - self.flights_sum[low]
        unknown = keys < 0
        return np.where(unknown, 0, delayed), np.where(unknown, 0, flights)

    def latest(self, keys: np.ndarray, end: np.ndarray, max_age: int) -> tuple[np.ndarray, np.ndarray]:
        """(delayed, flights) of each key's latest recorded day (or minute) before `end`, if it
        is at least `end - max_age`; (0, 0) when there is none, or the key is unknown."""
        bits = getattr(self, "bits", DAY_BITS)
        known = keys >= 0
        if not len(self.composite):
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        base = np.where(known, keys, 0) << bits
        position = np.searchsorted(self.composite, base | end) - 1
        entry = np.clip(position, 0, None)
        stored = self.composite[entry]
        found = (
            known
            & (position >= 0)
            & ((stored >> bits) == (base >> bits))
            & ((stored & ((1 << bits) - 1)) >= end - max_age)
        )
        return np.where(found, self.delayed[entry], 0), np.where(found, self.flights[entry], 0)


def sorted_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(keys, return_inverse=True)` of integer keys, by hashing: only the distinct
    keys are sorted, not every row (5-7x faster on a year of flights' keys; same arrays)."""
    import pandas as pd

    inverse, unique = pd.factorize(keys, sort=True)
    return unique, inverse


def flight_ids(columns: list[np.ndarray], days: np.ndarray) -> np.ndarray:
    """uint64 identity of each flight: its scheduled day and the given identifying fields
    (airline, type, destination, hour, minute), plus its occurrence number among identical
    rows of the batch (two flights of one airline to one destination at the same minute stay
    two flights, as long as a day's batches keep them in the same order)."""
    import pandas as pd

    frame = pd.DataFrame({str(i): _as_strings(column) for i, column in enumerate(columns)})
    frame["day"] = days
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    occurrence = pd.Series(hashed).groupby(hashed).cumcount().to_numpy()
    pair = pd.DataFrame({"flight": hashed, "occurrence": occurrence})
    return pd.util.hash_pandas_object(pair, index=False).to_numpy()


def _as_strings(column: np.ndarray) -> Any:
    """`pd.Series(column, dtype=object).astype(str)` (what the ids hash: never change it),
    converting each distinct number once (str() of a float is slow; strings are cheap already)
    when that gives the same strings: values all ints or all floats, none missing, and no 0.0
    beside -0.0 (equal, but not as text)."""
    import pandas as pd

    series = pd.Series(column, dtype=object)
    kinds = set(map(type, column))
    if kinds == {int} or kinds == {float}:
        codes, distinct = pd.factorize(series)
        numbers = np.asarray(column, dtype=float) if kinds == {float} else np.empty(0)
        signs = np.signbit(numbers[numbers == 0])
        if (codes >= 0).all() and (signs.all() or not signs.any()):
            text = pd.Series(np.asarray(distinct, dtype=object), dtype=object).astype(str)
            return pd.Series(text.array.take(codes))
    return series.astype(str)


class FlightLedger:
    """The outcome stored per flight identity (sorted ids, 0/1 delayed), so a re-fed flight
    changes the histories by the difference only."""

    def __init__(self) -> None:
        self.ids = np.empty(0, dtype=np.uint64)
        self.delayed = np.empty(0, dtype=np.int8)

    def merge(self, ids: np.ndarray, delayed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store the batch; returns (delayed change, flights change) per row to add to the
        histories: (y, 1) for a new flight, (y - stored, 0) for a known one. Within a batch,
        the last row of an identity wins."""
        delayed = np.asarray(delayed, dtype=np.int8)
        last = np.zeros(len(ids), dtype=bool)  # keep the last occurrence of an id in the batch
        _, first_from_end = np.unique(ids[::-1], return_index=True)
        last[len(ids) - 1 - first_from_end] = True
        position = np.clip(np.searchsorted(self.ids, ids), 0, max(len(self.ids) - 1, 0))
        known = (self.ids[position] == ids) if len(self.ids) else np.zeros(len(ids), dtype=bool)
        change = np.where(last, delayed.astype(float), 0.0)
        count = np.where(last & ~known, 1.0, 0.0)
        stored = last & known
        change[stored] -= self.delayed[position[stored]]
        self.delayed[position[stored]] = delayed[stored]
        fresh = last & ~known
        ids_all = np.concatenate([self.ids, ids[fresh]])
        order = np.argsort(ids_all, kind="stable")
        self.ids = ids_all[order]
        self.delayed = np.concatenate([self.delayed, delayed[fresh]])[order]
        return change, count
