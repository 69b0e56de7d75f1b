"""The scikit-learn transformers: canonical flight fields -> float32 feature matrix.

- `ReferenceFeatures`: the challenge reference model's ten 0/1 indicators.
- `FlightFeatures`: one of FEATURE_SETS (features/feature_sets.py): category codes (or
  one-hot), history features (smoothed delay rate of the destination, airline, route,
  scheduled slot, ... learnt from the training rows only, out-of-fold while fitting so a row
  never sees its own label), schedule-congestion counts (how many flights the training
  schedule holds in the same weekday-hour: schedules are known ahead, so no leakage),
  public-holiday calendar facts (data/calendar.py), recent delay rates (the last 7-28
  days before the flight's day: features/outcome_history.py) and a periodic spline of the
  scheduled time of day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold
from sklearn.preprocessing import SplineTransformer

from latam_airlines.data.calendar import HOLIDAY_FEATURES, day_numbers, holiday_calendar, holiday_features
from latam_airlines.features.canonical import DEFAULT_YEAR, NUMERIC_FIELDS, as_numbers
from latam_airlines.features.feature_sets import (
    FEATURE_SETS,
    INTRADAY_AHEAD_MINUTES,
    LAST_DAY_MAX_AGE,
    REFERENCE_INDICATORS,
    SCHEDULE_SPAN_MINUTES,
    fields_of,
)
from latam_airlines.features.outcome_history import (
    IDENTITY_FIELDS,
    MINUTE_BITS,
    FlightLedger,
    OutcomeHistory,
    flight_ids,
    sorted_groups,
)

# Up to this many rows, codes come from one dict lookup per value (a request's few flights);
# beyond it, from one lookup per distinct value (pandas' factorize), as training frames need.
FEW_ROWS = 256


class ReferenceFeatures(BaseEstimator, TransformerMixin):
    """The reference model's ten 0/1 indicators."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> ReferenceFeatures:
        self.n_features_in_ = len(REFERENCE_INDICATORS)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        columns = []
        for field, value in REFERENCE_INDICATORS:
            values = X[field].to_numpy()
            columns.append((as_numbers(values) if field == "MES" else values.astype(object)) == value)
        return np.column_stack(columns).astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"{field}_{value}" for field, value in REFERENCE_INDICATORS], dtype=object)


class FlightFeatures(BaseEstimator, TransformerMixin):
    """Canonical flight fields -> float32 matrix for one of FEATURE_SETS.

    Unknown categories get code NaN (trees send them down their learnt missing-value branch;
    one-hot gives all zeros) and the history/congestion features of an unseen combination are
    the training prior / zero. `smoothing` is the m of the m-estimate (rate pulled towards the
    overall delay rate for rare combinations). `year` dates rows whose AÑO is missing.
    The training rows' outcomes seed the recent-rate history; `record_outcomes` extends it.
    """

    def __init__(
        self,
        feature_set: str = "full",
        one_hot: bool = False,
        smoothing: float = 20.0,
        folds: int = 5,
        random_state: int = 42,
        year: int = DEFAULT_YEAR,
    ) -> None:
        self.feature_set = feature_set
        self.one_hot = one_hot
        self.smoothing = smoothing
        self.folds = folds
        self.random_state = random_state
        self.year = year

    # -- vocabulary: every field a feature reads gets integer codes
    def _codes(self, X: pd.DataFrame, field: str) -> np.ndarray:
        """Integer code of each value, -1 for unknown or missing (or an absent column)."""
        if field not in X.columns:
            return np.full(len(X), -1, dtype=np.int64)
        values = X[field].to_numpy()
        if field in NUMERIC_FIELDS:
            numbers = as_numbers(values)
            known = self.vocabulary_[field]
            position = np.clip(np.searchsorted(known, numbers), 0, max(len(known) - 1, 0))
            found = (known[position] == numbers) if len(known) else np.zeros(len(numbers), dtype=bool)
            return np.where(found, position, -1).astype(np.int64)
        codes = self.codes_[field]
        if len(values) <= FEW_ROWS:  # a dict lookup per value: cheapest for a handful of rows
            return np.fromiter((codes.get(value, -1) for value in values), dtype=np.int64, count=len(values))
        # Many rows repeat a few values: look each distinct value up once (missing: -1).
        inverse, distinct = pd.factorize(values)
        found = np.fromiter((codes.get(value, -1) for value in distinct), dtype=np.int64, count=len(distinct))
        return np.append(found, -1)[inverse]

    def _key(self, codes: Mapping[str, np.ndarray], key: tuple[str, ...]) -> np.ndarray:
        combined = np.zeros(len(next(iter(codes.values()))), dtype=np.int64)
        unknown = np.zeros(combined.shape, dtype=bool)
        for field in key:
            combined = combined * (len(self.vocabulary_[field]) + 1) + codes[field]
            unknown |= codes[field] < 0
        combined[unknown] = -1
        return combined

    @staticmethod
    def _lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray, missing: float) -> np.ndarray:
        sorted_keys, values = table
        position = np.clip(np.searchsorted(sorted_keys, keys), 0, max(len(sorted_keys) - 1, 0))
        found = (
            (sorted_keys[position] == keys) & (keys >= 0) if len(sorted_keys) else np.zeros(len(keys), bool)
        )
        return np.where(found, values[position] if len(values) else missing, missing)

    def _rates(self, keys: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique, inverse = sorted_groups(keys)
        counts = np.bincount(inverse, minlength=len(unique))
        positives = np.bincount(inverse, weights=y, minlength=len(unique))
        rates = (positives + self.smoothing * self.prior_) / (counts + self.smoothing)
        keep = unique >= 0
        return unique[keep], rates[keep]

    def fit(self, X: pd.DataFrame, y: Any) -> FlightFeatures:
        self._fit(X, np.asarray(y, dtype=float))
        return self

    def _fit(self, X: pd.DataFrame, y: np.ndarray) -> dict[str, np.ndarray]:
        spec = FEATURE_SETS[self.feature_set]
        self.spec_ = spec
        self.prior_ = float(y.mean()) if len(y) else 0.0
        self.vocabulary_ = {}
        self.codes_ = {}
        for field in fields_of(self.feature_set):
            if field == "AÑO":  # dates only (see _years): no codes, and optional in X
                continue
            # DIA may be absent (the minimal record has no day: recent rates read the last days)
            values = X[field].to_numpy() if field in X.columns else np.full(len(X), np.nan)
            if field in NUMERIC_FIELDS:
                numbers = as_numbers(values)
                self.vocabulary_[field] = np.unique(numbers[~np.isnan(numbers)])
            else:
                self.vocabulary_[field] = np.asarray(
                    sorted({str(v) for v in pd.unique(values) if not pd.isna(v)}), dtype=object
                )
                self.codes_[field] = {value: code for code, value in enumerate(self.vocabulary_[field])}
        codes = {field: self._codes(X, field) for field in self.vocabulary_}
        keys = {
            key: self._key(codes, key)
            for key in spec["history"] + spec["congestion"] + spec.get("combos", [])
        }
        self.combos_ = {key: np.unique(keys[key][keys[key] >= 0]) for key in spec.get("combos", [])}
        self.history_ = {key: self._rates(keys[key], y) for key in spec["history"]}
        self.congestion_ = {}
        for key in spec["congestion"]:
            unique, counts = np.unique(keys[key][keys[key] >= 0], return_counts=True)
            self.congestion_[key] = (unique, np.log1p(counts).astype(float))
        self.holidays_ = None
        if spec.get("holidays"):
            self.holidays_ = holiday_calendar([int(year) for year in np.unique(self._years(X))])
        # Recent windows and last-day shares read the same per-day history of their key.
        day_keys = [key for key, _ in spec.get("recent", [])] + list(spec.get("last_day", []))
        self.outcomes_ = {key: OutcomeHistory() for key in day_keys}
        self.intraday_ = {key: OutcomeHistory(MINUTE_BITS) for key in spec.get("intraday", [])}
        self.ledger_ = FlightLedger()
        self.outcomes_until_ = np.nan
        if self.outcomes_:
            recent_keys = {key: self._key(codes, key) for key in [*self.outcomes_, *self.intraday_]}
            self._record(recent_keys, self.flight_days(X), y, X)
        self.schedule_ = None
        if spec.get("schedule"):
            self._fit_schedule(X, codes)
        self.time_of_day_ = None
        if spec.get("time_of_day"):  # fixed knots: the basis depends on the clock, not on X
            knots = np.linspace(0.0, 1.0, spec["time_of_day"]["knots"])[:, None]
            self.time_of_day_ = SplineTransformer(knots=knots, degree=3, extrapolation="periodic").fit(knots)
            # The basis of every whole minute of the day, looked up when scoring: one transform
            # call costs ~0.8 ms per request, a lookup nothing.
            self.time_of_day_table_ = self.time_of_day_.transform(np.arange(1440)[:, None] / 1440)
        self.n_features_in_ = len(self.vocabulary_)
        return keys

    # -- planned schedule (SCHEDULE_COUNTS): counts of scheduled flights, no outcome read
    def _fit_schedule(self, X: pd.DataFrame, codes: Mapping[str, np.ndarray]) -> None:
        """Seed the schedule book with the training rows and learn each count's weekday
        (x hour) norm: its mean over the training flights of the same key."""
        self.schedule_ = {key: OutcomeHistory(MINUTE_BITS) for key, _ in self.spec_["schedule"]}
        self.schedule_ledger_ = FlightLedger()
        self.schedule_days_ = np.empty(0, dtype=np.int64)
        self.schedule_norm_ = {}
        self._record_schedule(X, codes)
        counts, groups = self._schedule_counts(X, codes)
        for column, item in enumerate(self.spec_["schedule"]):
            usable = (groups[:, column] >= 0) & ~np.isnan(counts[:, column])
            unique, inverse = np.unique(groups[usable, column], return_inverse=True)
            totals = np.bincount(inverse, weights=counts[usable, column], minlength=len(unique))
            self.schedule_norm_[item] = (unique, totals / np.bincount(inverse, minlength=len(unique)))

    def _record_schedule(self, X: pd.DataFrame, codes: Mapping[str, np.ndarray]) -> int:
        days = self.flight_days(X)
        minutes = self.flight_minutes(X, days)
        dated = ~np.isnan(minutes)
        if not dated.any():
            return 0
        identity = [X[field].to_numpy()[dated] for field in IDENTITY_FIELDS if field in X.columns]
        # Idempotent per flight: a flight given again adds nothing (count 0).
        _, count = self.schedule_ledger_.merge(flight_ids(identity, days[dated]), np.zeros(int(dated.sum())))
        for key, book in self.schedule_.items():
            book.record(self._key(codes, key)[dated], minutes[dated], np.zeros(len(count)), count)
        self.schedule_days_ = np.union1d(self.schedule_days_, days[dated].astype(np.int64))
        return int(dated.sum())

    def record_schedule(self, X: pd.DataFrame) -> int:
        """Add planned flights (canonical fields with day, hour and minute; no outcome) to the
        schedule book; returns how many were usable. A flight given again is counted once."""
        if getattr(self, "schedule_", None) is None:
            return 0
        codes = {field: self._codes(X, field) for field in self.vocabulary_}
        return self._record_schedule(X, codes)

    def booked(self, X: pd.DataFrame) -> np.ndarray:
        """True where the schedule book holds the flight's day (its counts read the planned
        schedule; elsewhere "a typical day"); False without a day or a book."""
        return self.booked_days(self.flight_days(X))

    def booked_days(self, days: np.ndarray) -> np.ndarray:
        """`booked` for day numbers already read (`flight_days`; NaN: no day)."""
        if getattr(self, "schedule_", None) is None:
            return np.zeros(len(days), dtype=bool)
        return np.isin(np.nan_to_num(days, nan=-1).astype(np.int64), self.schedule_days_)

    def _schedule_counts(
        self, X: pd.DataFrame, codes: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scheduled-flight count, norm group) per row and SCHEDULE_COUNTS item; NaN / -1
        where the day (or, below a day, the minute) is unknown."""
        days = self.flight_days(X)
        minutes = self.flight_minutes(X, days)
        day_start = np.nan_to_num(days) * 1440
        hour = np.floor((np.nan_to_num(minutes) - day_start) / 60)
        weekday = (np.nan_to_num(days).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        items = self.spec_["schedule"]
        counts = np.full((len(X), len(items)), np.nan)
        groups = np.full((len(X), len(items)), -1, dtype=np.int64)
        for column, (key, span) in enumerate(items):
            if span == "day":
                known, start, end = ~np.isnan(days), day_start, day_start + 1440
                slot = weekday * 24
            else:
                known = ~np.isnan(minutes)
                if span == "hour":
                    start = day_start + hour * 60
                    end = start + 60
                else:  # around
                    start = np.nan_to_num(minutes) - SCHEDULE_SPAN_MINUTES
                    end = np.nan_to_num(minutes) + SCHEDULE_SPAN_MINUTES + 1
                slot = weekday * 24 + hour.astype(np.int64)
            key_codes = self._key(codes, key)
            flights = self.schedule_[key].window(key_codes, start.astype(np.int64), end.astype(np.int64))[1]
            usable = known & (key_codes >= 0)
            counts[usable, column] = flights[usable]
            groups[usable, column] = (key_codes * 168 + slot)[usable]
        return counts, groups

    def _schedule(self, X: pd.DataFrame, codes: Mapping[str, np.ndarray]) -> np.ndarray:
        """log((count + 1) / (norm + 1)) per SCHEDULE_COUNTS item; 0 (a typical day) where
        the book holds no flight of the day or the key has no norm."""
        counts, groups = self._schedule_counts(X, codes)
        booked = self.booked(X)
        out = np.zeros(counts.shape)
        for column, item in enumerate(self.spec_["schedule"]):
            norm = self._lookup(self.schedule_norm_[item], groups[:, column], np.nan)
            usable = booked & ~np.isnan(counts[:, column]) & ~np.isnan(norm)
            out[usable, column] = np.log((counts[usable, column] + 1) / (norm[usable] + 1))
        return out

    def _years(self, X: pd.DataFrame) -> np.ndarray:
        years = as_numbers(X["AÑO"].to_numpy()) if "AÑO" in X.columns else np.full(len(X), np.nan)
        return np.where(np.isnan(years), float(self.year), years)

    def flight_days(self, X: pd.DataFrame) -> np.ndarray:
        """Day number (`day_numbers`) of each flight's scheduled day, NaN where unknown."""

        def column(name: str) -> np.ndarray:
            return as_numbers(X[name].to_numpy()) if name in X.columns else np.full(len(X), np.nan)

        return day_numbers(self._years(X), column("MES"), column("DIA"))

    @staticmethod
    def flight_minutes(X: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        """Scheduled minute since 1970 of each flight (NaN without day, hour or minute)."""
        hour = as_numbers(X["HORA"].to_numpy()) if "HORA" in X.columns else np.full(len(X), np.nan)
        minute = as_numbers(X["MIN"].to_numpy()) if "MIN" in X.columns else np.full(len(X), np.nan)
        return days * 1440 + hour * 60 + minute

    def _record(
        self, keys: Mapping[tuple[str, ...], np.ndarray], days: np.ndarray, y: np.ndarray, X: pd.DataFrame
    ) -> None:
        dated = ~np.isnan(days)
        if not dated.any():
            return
        identity = [X[field].to_numpy()[dated] for field in IDENTITY_FIELDS if field in X.columns]
        change, count = self.ledger_.merge(flight_ids(identity, days[dated]), y[dated])
        for key, history in self.outcomes_.items():
            history.record(keys[key][dated], days[dated], change, count)
        if self.intraday_:
            minutes = self.flight_minutes(X, days)[dated]
            for key, history in self.intraday_.items():
                history.record(keys[key][dated], minutes, change, count)
        if self.outcomes_:
            self.outcomes_until_ = float(np.nanmax([self.outcomes_until_, np.nanmax(days)]))

    def record_outcomes(self, X: pd.DataFrame, y: Any) -> int:
        """Add observed outcomes (canonical flights, 0/1 delayed) to the recent-rate history;
        returns how many flights were usable (known day). Idempotent per flight: a flight
        given again replaces its stored outcome; new flights of a stored day add to it."""
        if not getattr(self, "outcomes_", None):
            return 0
        codes = {field: self._codes(X, field) for field in self.vocabulary_}
        keys = {key: self._key(codes, key) for key in [*self.outcomes_, *self.intraday_]}
        days = self.flight_days(X)
        self._record(keys, days, np.asarray(y, dtype=float), X)
        return int((~np.isnan(days)).sum())

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, then transform with out-of-fold history rates (no row sees its own label)."""
        y = np.asarray(y, dtype=float)
        keys = self._fit(X, y)
        matrix = self.transform(X)
        if not self.spec_["history"] or len(y) < 2 * self.folds:
            return matrix
        first = self._history_offset()
        splitter = KFold(self.folds, shuffle=True, random_state=self.random_state)
        for fit_rows, score_rows in splitter.split(matrix):
            for column, key in enumerate(self.spec_["history"]):
                table = self._rates(keys[key][fit_rows], y[fit_rows])
                matrix[score_rows, first + column] = self._lookup(table, keys[key][score_rows], self.prior_)
        return matrix

    def _history_offset(self) -> int:
        width = sum(len(self.vocabulary_[f]) if self.one_hot else 1 for f in self.spec_["categorical"])
        return width + len(self.spec_.get("combos", [])) + len(self.spec_["numeric"])

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        spec = self.spec_
        codes = {field: self._codes(X, field) for field in self.vocabulary_}
        combined: dict[tuple[str, ...], np.ndarray] = {}

        def key_codes(key: tuple[str, ...]) -> np.ndarray:  # keys shared by features: combined once
            if key not in combined:
                combined[key] = self._key(codes, key)
            return combined[key]

        blocks = []
        for field in spec["categorical"]:
            if self.one_hot:
                eye = np.vstack(
                    [np.eye(len(self.vocabulary_[field])), np.zeros(len(self.vocabulary_[field]))]
                )
                blocks.append(eye[codes[field]])  # code -1 picks the all-zero last row
            else:
                blocks.append(np.where(codes[field] >= 0, codes[field], np.nan)[:, None])
        for key in spec.get("combos", []):  # position among the training combinations, NaN if new
            known = self.combos_[key]
            values = key_codes(key)
            position = np.clip(np.searchsorted(known, values), 0, max(len(known) - 1, 0))
            found = (known[position] == values) & (values >= 0) if len(known) else values < -1
            blocks.append(np.where(found, position, np.nan)[:, None])
        for field in spec["numeric"]:
            blocks.append(as_numbers(X[field].to_numpy())[:, None])
        for key in spec["history"]:
            blocks.append(self._lookup(self.history_[key], key_codes(key), self.prior_)[:, None])
        for key in spec["congestion"]:
            blocks.append(self._lookup(self.congestion_[key], key_codes(key), 0.0)[:, None])
        days = self.flight_days(X) if self.holidays_ is not None or self.outcomes_ else None
        if self.holidays_ is not None:
            blocks.append(holiday_features(days, self.holidays_))
        if spec.get("recent"):
            blocks.append(self._recent(key_codes, days))
        if spec.get("last_day"):
            blocks.append(self._last_day(key_codes, days))
        if self.intraday_:
            blocks.append(self._same_day(key_codes, X, days))
        if getattr(self, "schedule_", None) is not None:
            blocks.append(self._schedule(X, codes))
        if spec.get("time_of_day"):
            blocks.append(self._time_of_day(X, codes))
        return np.hstack(blocks).astype(np.float32)

    def _time_of_day(self, X: pd.DataFrame, codes: Mapping[str, np.ndarray]) -> np.ndarray:
        """The periodic spline basis of the scheduled time of day (fraction of 24 h; whole
        minutes from the fitted table; all zero where HORA or MIN is unknown), then the basis times 0/1 "field == value" per `by`
        item (categorical fields; zero for every other value, unknown or missing)."""
        numbers = {
            field: as_numbers(X[field].to_numpy()) if field in X.columns else np.full(len(X), np.nan)
            for field in ("HORA", "MIN")
        }
        minute = numbers["HORA"] * 60 + numbers["MIN"]
        whole = (minute == np.floor(minute)) & (minute >= 0) & (minute < 1440)  # False for NaN
        other = ~np.isnan(minute) & ~whole  # fractions of a minute, or beyond 24 h
        basis = np.zeros((len(X), self.time_of_day_.n_features_out_))
        basis[whole] = self.time_of_day_table_[minute[whole].astype(np.int64)]
        if other.any():
            basis[other] = self.time_of_day_.transform(minute[other, None] / 1440)
        blocks = [basis]
        for field, value in self.spec_["time_of_day"]["by"]:
            chosen = codes[field] == self.codes_[field].get(value, -2)
            blocks.append(basis * chosen[:, None])
        return np.hstack(blocks)

    def _recent(self, key_codes: Callable[[tuple[str, ...]], np.ndarray], days: np.ndarray) -> np.ndarray:
        """Smoothed delay rate of each recent window, over days strictly before the flight's
        day, slid back to end on the last recorded day when the history is older (or the day
        unknown)."""
        end = self._history_end(days)
        columns = []
        for key, width in self.spec_["recent"]:
            delayed, flights = self.outcomes_[key].window(key_codes(key), end - width, end)
            columns.append((delayed + self.smoothing * self.prior_) / (flights + self.smoothing))
        return np.column_stack(columns)

    def scl_recent_rate(self, X: pd.DataFrame, days: int = 28) -> np.ndarray:
        """Every flight's (SCL's) smoothed delay rate over the `days` days before each flight's
        day, as the "recent" features read it (the minimal tier's threshold follows it:
        models/threshold_rules.py). Needs the key () in the history."""
        end = self._history_end(self.flight_days(X))
        delayed, flights = self.outcomes_[()].window(np.zeros(len(X), dtype=np.int64), end - days, end)
        return (delayed + self.smoothing * self.prior_) / (flights + self.smoothing)

    def _history_end(self, days: np.ndarray) -> np.ndarray:
        """First day the outcome features may not read: the flight's day, or the day after the
        history's last one when it ends earlier (or the flight's day is unknown)."""
        after_last = 0.0 if np.isnan(self.outcomes_until_) else self.outcomes_until_ + 1
        # lag_days_ (benchmarks only): score as if the feed were that many days late.
        lagged = days - getattr(self, "lag_days_", 0)
        return np.where(np.isnan(days), after_last, np.minimum(lagged, after_last)).astype(np.int64)

    def _last_day(self, key_codes: Callable[[tuple[str, ...]], np.ndarray], days: np.ndarray) -> np.ndarray:
        """Per "last_day" key: the share delayed on the key's latest fed day before the
        flight's (within LAST_DAY_MAX_AGE days; the prior when none) and whether there was
        one. Unsmoothed: yesterday's same slot or route is one to a few flights, which the
        m-estimate of the windows would pull to the prior (reports/model_selection.md,
        seventh pass)."""
        end = self._history_end(days)
        columns = []
        for key in self.spec_["last_day"]:
            delayed, flights = self.outcomes_[key].latest(key_codes(key), end, LAST_DAY_MAX_AGE)
            flown = flights > 0
            columns.append(np.where(flown, delayed / np.maximum(flights, 1), self.prior_))
            columns.append(flown.astype(float))
        return np.column_stack(columns)

    def _same_day(
        self, key_codes: Callable[[tuple[str, ...]], np.ndarray], X: pd.DataFrame, days: np.ndarray
    ) -> np.ndarray:
        """Smoothed delay rate of the flight's own day, over flights scheduled at least
        INTRADAY_AHEAD_MINUTES before it (empty, so the prior, when the day was not fed):
        from the day's start ("intraday"), then over the last minutes before that cut-off only
        ("intraday_windows", never before the day's start)."""
        minutes = self.flight_minutes(X, days)
        known = ~np.isnan(minutes)
        day_start = np.where(known, np.nan_to_num(days) * 1440, 0).astype(np.int64)
        end = np.where(known, np.nan_to_num(minutes) - INTRADAY_AHEAD_MINUTES + 1, 0).astype(np.int64)
        end = np.maximum(end, day_start)
        windows = [(key, day_start) for key in self.spec_["intraday"]]
        windows += [
            (key, np.maximum(day_start, end - width)) for key, width in self.spec_.get("intraday_windows", [])
        ]
        columns = []
        for key, start in windows:
            delayed, flights = self.intraday_[key].window(key_codes(key), start, end)
            columns.append((delayed + self.smoothing * self.prior_) / (flights + self.smoothing))
        return np.column_stack(columns)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        spec = self.spec_
        names: list[str] = []
        for field in spec["categorical"]:
            names += [f"{field}={v}" for v in self.vocabulary_[field]] if self.one_hot else [field]
        names += ["+".join(key) for key in spec.get("combos", [])]
        names += list(spec["numeric"])
        names += ["delay_rate[" + ",".join(key) + "]" for key in spec["history"]]
        names += ["scheduled[" + ",".join(key) + "]" for key in spec["congestion"]]
        names += HOLIDAY_FEATURES if spec.get("holidays") else []
        names += [f"recent_rate[{','.join(key) or 'all'};{days}d]" for key, days in spec.get("recent", [])]
        for key in spec.get("last_day", []):
            names += [f"last_day_rate[{','.join(key) or 'all'}]", f"last_day_flown[{','.join(key) or 'all'}]"]
        names += [f"same_day_rate[{','.join(key) or 'all'}]" for key in spec.get("intraday", [])]
        names += [
            f"same_day_rate[{','.join(key) or 'all'};{width}min]"
            for key, width in spec.get("intraday_windows", [])
        ]
        names += [
            f"scheduled_vs_norm[{','.join(key) or 'all'};{span}]" for key, span in spec.get("schedule", [])
        ]
        if spec.get("time_of_day"):
            splines = [f"time_of_day_spline[{i}]" for i in range(self.time_of_day_.n_features_out_)]
            names += splines
            for field, value in spec["time_of_day"]["by"]:
                names += [f"{name}*{field}={value}" for name in splines]
        return np.asarray(names, dtype=object)
