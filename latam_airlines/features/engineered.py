"""Model inputs: flight records -> canonical fields -> numeric feature matrix.

Two steps, both shared by training, `latam predict` and the API:
- `canonical_flights` maps a processed table, a raw-format file or API records to the
  canonical input fields (the processed table's names), deriving calendar fields from
  `Fecha-I` with the same rules as `make_dataset`/`build_features`.
- `FlightFeatures` (a scikit-learn transformer) turns those fields into numbers: category
  codes (or one-hot), history features (smoothed delay rate of the destination, airline,
  route, scheduled slot, ... learnt from the training rows only, out-of-fold while fitting so a
  row never sees its own label) and schedule-congestion counts (how many flights the training
  schedule holds in the same weekday-hour: schedules are known ahead, so no leakage) and
  public-holiday calendar facts (Chilean holidays, known years ahead: see `holiday_features`)
  and recent delay rates (the last 7-28 days before the flight's day: see features/recent.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold

from latam_airlines.data.schema import DAY_NAMES, PERIODS
from latam_airlines.features.recent import MINUTE_BITS, FlightLedger, OutcomeHistory, day_numbers, flight_ids

# Canonical input fields, as the processed table names them.
CATEGORICAL_FIELDS: list[str] = ["OPERA", "TIPOVUELO", "DIANOM", "Des_I", "periodo_dia"]
NUMERIC_FIELDS: list[str] = ["MES", "DIA", "HORA", "MIN", "temporada_alta", "AÑO"]
INPUT_FIELDS: list[str] = CATEGORICAL_FIELDS + NUMERIC_FIELDS
# Raw / API spellings of the same fields.
RENAMES: dict[str, str] = {"Des-I": "Des_I", "Ori-I": "Ori_I", "Emp-I": "Emp_I"}
DEFAULT_YEAR = 2017  # features_2017.csv has no year column
# A flight's identity in the outcome feed (with its scheduled day): see recent.FlightLedger.
IDENTITY_FIELDS: list[str] = ["OPERA", "TIPOVUELO", "Des_I", "HORA", "MIN"]


def flight_columns(
    flights: pd.DataFrame | Sequence[Mapping[str, Any]],
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Column arrays (raw/API spellings renamed) and row index of a frame or of records.

    Records skip the DataFrame constructor: that is most of the cost of scoring one record.
    """
    columns: dict[str, np.ndarray] = {}
    if isinstance(flights, pd.DataFrame):
        for name in flights.columns:
            _add_column(columns, str(name), flights[name].to_numpy())
        return columns, flights.index
    records = list(flights)
    names = dict.fromkeys(itertools.chain.from_iterable(records))  # every key, first-seen order
    for name in names:
        values = np.empty(len(records), dtype=object)
        values[:] = [record.get(name) for record in records]
        _add_column(columns, name, values)
    return columns, pd.RangeIndex(len(records))


def _add_column(columns: dict[str, np.ndarray], name: str, values: np.ndarray) -> None:
    """Store under the canonical name; when both spellings come (`Des-I` in some records,
    `Des_I` in others) each row keeps whichever it has, the canonical one first."""
    canonical = RENAMES.get(name, name)
    if canonical in columns:
        kept = columns[canonical]
        first, second = (values, kept) if name == canonical else (kept, values)
        values = np.where(pd.isna(first), second, first)
    columns[canonical] = values


def _numbers(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iufb":
        return values.astype("float64")
    try:  # ints, floats, None and numeric strings convert directly
        return values.astype("float64")
    except (TypeError, ValueError):
        pass
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")


def _labels(values: np.ndarray) -> np.ndarray:
    """Object array of strings, None where missing (category codes treat None as unknown)."""
    labels = values.astype(object)
    missing = pd.isna(labels)
    if missing.any():
        labels[missing] = None
    return labels


def _scheduled(values: np.ndarray) -> pd.DatetimeIndex:
    if values.dtype.kind == "M":
        return pd.DatetimeIndex(values)
    # The challenge writes "2017-01-01 23:30:00"; other spellings go through pandas' parser.
    parsed = pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    retry = parsed.isna().to_numpy() & ~pd.isna(values)
    if retry.any():  # offsets, fractions, a T: the validation's policy (Santiago local time)
        from latam_airlines.validation import parse_datetimes

        parsed[retry] = parse_datetimes(pd.Series(values[retry], dtype=object))[0].to_numpy()
    return pd.DatetimeIndex(parsed)


def _high_season(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Same rule as make_dataset.is_high_season, on month/day numbers (NaN stays NaN)."""
    month_day = month * 100 + day
    season = (
        (month_day >= 1215) | (month_day <= 303) | ((month_day >= 715) & (month_day <= 731))
        | ((month_day >= 911) & (month_day <= 930))
    )  # fmt: skip
    return np.where(np.isnan(month_day), np.nan, season.astype("float64"))


def _period(hour: np.ndarray) -> np.ndarray:
    """Same rule as make_dataset.period_of_day (None where the hour is unknown)."""
    period = np.where(
        (hour >= 5) & (hour < 12), PERIODS[0], np.where((hour >= 12) & (hour < 19), PERIODS[1], PERIODS[2])
    )
    period = period.astype(object)
    period[np.isnan(hour)] = None
    return period


def _weekday_names(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    known = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    names = np.full(len(month), None, dtype=object)
    if known.any():
        dates = pd.to_datetime(
            pd.DataFrame({"year": year[known], "month": month[known], "day": day[known]}), errors="coerce"
        )
        weekday = dates.dt.day_of_week.to_numpy()
        valid = ~np.isnan(weekday)
        picked = np.full(len(weekday), None, dtype=object)
        picked[valid] = np.asarray(DAY_NAMES, dtype=object)[weekday[valid].astype(int)]
        names[known] = picked
    return names


def canonical_flights(
    flights: pd.DataFrame | Sequence[Mapping[str, Any]], year: int | None = None
) -> pd.DataFrame:
    """The INPUT_FIELDS of each flight (NaN/None where absent and underivable).

    `Fecha-I` (scheduled time) gives MES, DIA, HORA, MIN, DIANOM, temporada_alta and
    periodo_dia, by the rules of make_dataset/build_features; without it DIANOM comes from
    (AÑO or `year`, MES, DIA), temporada_alta from (MES, DIA), periodo_dia from HORA.
    AÑO comes from the input, else `Fecha-I`, else `year` (default 2017, the seed table's).
    Fields given in the input win over derived ones. Vectorised: cheap for one record.
    """
    return canonical_from_columns(*flight_columns(flights), year=year)


def canonical_from_columns(
    columns: Mapping[str, np.ndarray], index: pd.Index, year: int | None = None
) -> pd.DataFrame:
    """`canonical_flights` on columns already extracted by `flight_columns`."""
    rows = len(index)
    given = set(columns)
    out: dict[str, np.ndarray] = {}
    for field in CATEGORICAL_FIELDS:
        out[field] = _labels(columns[field]) if field in given else np.full(rows, None, dtype=object)
    for field in NUMERIC_FIELDS:
        out[field] = _numbers(columns[field]) if field in given else np.full(rows, np.nan)
    if "Fecha-I" in given:
        scheduled = _scheduled(columns["Fecha-I"])
        derived = {
            "MES": scheduled.month, "DIA": scheduled.day, "HORA": scheduled.hour, "MIN": scheduled.minute,
            "AÑO": scheduled.year,
        }  # fmt: skip
        for field, values in derived.items():
            values = np.asarray(values, dtype="float64")
            out[field] = np.where(np.isnan(out[field]), values, out[field])
        weekday = np.asarray(scheduled.day_of_week, dtype="float64")
        names = np.full(rows, None, dtype=object)
        names[~np.isnan(weekday)] = np.asarray(DAY_NAMES, dtype=object)[
            weekday[~np.isnan(weekday)].astype(int)
        ]
        out["DIANOM"] = np.where(pd.isna(out["DIANOM"]), names, out["DIANOM"])
    out["AÑO"] = np.where(np.isnan(out["AÑO"]), float(year or DEFAULT_YEAR), out["AÑO"])
    if np.isnan(out["temporada_alta"]).any():
        season = _high_season(out["MES"], out["DIA"])
        out["temporada_alta"] = np.where(np.isnan(out["temporada_alta"]), season, out["temporada_alta"])
    missing_day = pd.isna(out["DIANOM"])
    if missing_day.any():
        names = _weekday_names(out["AÑO"][missing_day], out["MES"][missing_day], out["DIA"][missing_day])
        out["DIANOM"] = out["DIANOM"].copy()
        out["DIANOM"][missing_day] = names
    missing_period = pd.isna(out["periodo_dia"])
    if missing_period.any():
        out["periodo_dia"] = np.where(missing_period, _period(out["HORA"]), out["periodo_dia"])
    # One object block: cheap to build for a few records, and pandas keeps labels as plain
    # Python strings (a dict of columns would turn them into slower arrow strings).
    block = np.empty((rows, len(INPUT_FIELDS)), dtype=object)
    for position, field in enumerate(INPUT_FIELDS):
        block[:, position] = out[field]
    return pd.DataFrame(block, index=index, columns=INPUT_FIELDS, dtype=object, copy=False)


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


# --------------------------------------------------------------------------- feature sets
# Each set names the fields used as categories, as plain numbers, as history keys (smoothed
# delay rate per value combination) and as congestion keys (training-schedule counts);
# "holidays": True adds HOLIDAY_FEATURES (from AÑO, MES and DIA); "recent" lists (key, days)
# whose delay rate over the last `days` days before the flight's day is a feature.
FEATURE_SETS: dict[str, dict[str, list]] = {
    # What the API's minimal record {OPERA, TIPOVUELO, MES} supports. The month is a
    # category (a linear month extrapolated 0.40 -> 0.58 for LATAM national flights while the
    # observed rates stayed 0.11-0.17), with smoothed delay rates per month and per
    # airline x type x month (an unseen month gets the prior); the recent rates of SCL, the
    # airline and airline x type follow the level (a record without a day reads the last 28
    # recorded days).
    "minimal": {
        "categorical": ["OPERA", "TIPOVUELO", "MES"],
        "numeric": [],
        "history": [("OPERA",), ("OPERA", "TIPOVUELO"), ("MES",), ("OPERA", "TIPOVUELO", "MES")],
        "congestion": [],
        "recent": [((), 28), (("OPERA",), 28), (("OPERA", "TIPOVUELO"), 28)],
    },
    # Every seed field except the month (which does not extrapolate to unseen months).
    "base": {
        "categorical": ["OPERA", "TIPOVUELO", "DIANOM", "Des_I", "periodo_dia"],
        "numeric": ["HORA", "MIN", "temporada_alta"],
        "history": [],
        "congestion": [],
    },
    "history": {
        "categorical": ["OPERA", "TIPOVUELO", "DIANOM", "Des_I", "periodo_dia"],
        "numeric": ["HORA", "MIN", "temporada_alta"],
        "history": [
            ("Des_I",),
            ("OPERA",),
            ("OPERA", "Des_I"),
            ("OPERA", "Des_I", "HORA"),
            ("OPERA", "Des_I", "HORA", "MIN"),
            ("OPERA", "Des_I", "HORA", "MIN", "DIANOM"),
            ("OPERA", "HORA"),
            ("DIANOM", "HORA"),
        ],  # fmt: skip
        "congestion": [],
    },
}
FEATURE_SETS["congestion"] = {
    **FEATURE_SETS["history"],
    "congestion": [("DIANOM", "HORA"), ("OPERA", "Des_I"), ("OPERA", "Des_I", "HORA", "MIN")],
}
FEATURE_SETS["static"] = {**FEATURE_SETS["congestion"], "holidays": True}
# SCL-wide and per airline for the level, route and slot for the flight itself; () is every
# flight. Among the few sets tried on the Nov-Dec holdout this one scored best, so it was also
# checked on an inner split never tuned on (train Jan-Aug, test Sep-Oct, logreg): ROC-AUC
# 0.650 without these rates, 0.685 with them.
RECENT_WINDOWS: list[tuple[tuple[str, ...], int]] = [
    ((), 7), ((), 28), (("OPERA",), 7), (("OPERA",), 28), (("TIPOVUELO",), 7), (("Des_I",), 28),
    (("OPERA", "Des_I"), 28), (("OPERA", "Des_I", "HORA", "MIN"), 14),
    (("OPERA", "Des_I", "HORA", "MIN"), 28), (("OPERA", "HORA"), 28), (("DIANOM", "HORA"), 28),
    (("periodo_dia",), 7), (("OPERA", "periodo_dia"), 14), (("Des_I", "periodo_dia"), 28),
]  # fmt: skip
FEATURE_SETS["full"] = {**FEATURE_SETS["static"], "recent": RECENT_WINDOWS}
# The intraday option: `full` plus same-day delay rates (SCL, airline, destination) of the
# flights scheduled at least INTRADAY_AHEAD_MINUTES before the flight, as known when outcomes
# are fed during the day (`latam outcomes` several times a day; recording merges per flight).
# Train it only for a deployment fed intraday: fed once a day, those rates are empty (prior).
INTRADAY_AHEAD_MINUTES = 60
FEATURE_SETS["intraday"] = {
    **FEATURE_SETS["full"],
    "intraday": [(), ("OPERA",), ("Des_I",)],
}
# For CatBoost, which learns its own ordered target statistics: raw categories plus the
# combinations ("combos", coded like categories) whose delay rates the other sets precompute.
# Planned-schedule counts (the "schedule counts"): how busy the flight's day, hour
# and +-60 minutes are at SCL (and the airline's / destination's day) against the norm of
# that weekday (and hour) in the training schedule, as log((count + 1) / (norm + 1)).
# Schedules are published ahead, so this reads no outcome: the model keeps a schedule book
# seeded with the training rows and extended by `record_schedule` (a day absent from the
# book reads 0, "a typical day").
SCHEDULE_COUNTS: list[tuple[tuple[str, ...], str]] = [
    ((), "day"),
    ((), "hour"),
    ((), "around"),
    (("OPERA",), "day"),
    (("Des_I",), "day"),
]
SCHEDULE_SPAN_MINUTES = 60  # "around": flights scheduled within this many minutes either side
FEATURE_SETS["static_schedule"] = {**FEATURE_SETS["static"], "schedule": SCHEDULE_COUNTS}
FEATURE_SETS["full_schedule"] = {**FEATURE_SETS["full"], "schedule": SCHEDULE_COUNTS}
FEATURE_SETS["intraday_schedule"] = {**FEATURE_SETS["intraday"], "schedule": SCHEDULE_COUNTS}
FEATURE_SETS["catboost"] = {
    **FEATURE_SETS["base"],
    "combos": [("OPERA", "Des_I", "HORA", "MIN"), ("OPERA", "HORA")],
    "holidays": True,
    "recent": RECENT_WINDOWS,
}
FEATURE_SETS["full_with_month"] = {
    **FEATURE_SETS["full"],
    "numeric": ["MES", "DIA", "HORA", "MIN", "temporada_alta"],
}

# The challenge's reference model: ten one-hot indicators (data README).
REFERENCE_INDICATORS: list[tuple[str, Any]] = [
    ("OPERA", "Latin American Wings"), ("MES", 7), ("MES", 10), ("OPERA", "Grupo LATAM"),
    ("MES", 12), ("TIPOVUELO", "I"), ("MES", 4), ("MES", 11), ("OPERA", "Sky Airline"),
    ("OPERA", "Copa Air"),
]  # fmt: skip


def fields_of(feature_set: str) -> list[str]:
    """The canonical fields a feature set reads."""
    if feature_set == "reference":
        return ["OPERA", "MES", "TIPOVUELO"]
    spec = FEATURE_SETS[feature_set]
    recent = [key for key, _ in spec.get("recent", [])] + list(spec.get("intraday", []))
    if spec.get("schedule"):  # counts by day, hour and minute of the scheduled departure
        recent += [key for key, _ in spec["schedule"]] + [("HORA", "MIN")]
    keys = [
        field
        for key in spec["history"] + spec["congestion"] + spec.get("combos", []) + recent
        for field in key
    ]
    dates = ["AÑO", "MES", "DIA"] if spec.get("holidays") or recent else []
    return list(dict.fromkeys(spec["categorical"] + spec["numeric"] + keys + dates))


class ReferenceFeatures(BaseEstimator, TransformerMixin):
    """The reference model's ten 0/1 indicators."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> ReferenceFeatures:
        self.n_features_in_ = len(REFERENCE_INDICATORS)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        columns = []
        for field, value in REFERENCE_INDICATORS:
            values = X[field].to_numpy()
            columns.append((_numbers(values) if field == "MES" else values.astype(object)) == value)
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
            numbers = _numbers(values)
            known = self.vocabulary_[field]
            position = np.clip(np.searchsorted(known, numbers), 0, max(len(known) - 1, 0))
            found = (known[position] == numbers) if len(known) else np.zeros(len(numbers), dtype=bool)
            return np.where(found, position, -1).astype(np.int64)
        # A dict lookup per value: much cheaper than pandas' indexers for a handful of rows.
        codes = self.codes_[field]
        return np.fromiter((codes.get(value, -1) for value in values), dtype=np.int64, count=len(values))

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
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
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
                numbers = _numbers(values)
                self.vocabulary_[field] = np.unique(numbers[~np.isnan(numbers)])
            else:
                self.vocabulary_[field] = np.asarray(
                    sorted({str(v) for v in values if not pd.isna(v)}), dtype=object
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
        self.outcomes_ = {key: OutcomeHistory() for key, _ in spec.get("recent", [])}
        self.intraday_ = {key: OutcomeHistory(MINUTE_BITS) for key in spec.get("intraday", [])}
        self.ledger_ = FlightLedger()
        self.outcomes_until_ = np.nan
        if self.outcomes_:
            recent_keys = {key: self._key(codes, key) for key in [*self.outcomes_, *self.intraday_]}
            self._record(recent_keys, self.flight_days(X), y, X)
        self.schedule_ = None
        if spec.get("schedule"):
            self._fit_schedule(X, codes)
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
        booked = np.isin(np.nan_to_num(self.flight_days(X), nan=-1).astype(np.int64), self.schedule_days_)
        out = np.zeros(counts.shape)
        for column, item in enumerate(self.spec_["schedule"]):
            norm = self._lookup(self.schedule_norm_[item], groups[:, column], np.nan)
            usable = booked & ~np.isnan(counts[:, column]) & ~np.isnan(norm)
            out[usable, column] = np.log((counts[usable, column] + 1) / (norm[usable] + 1))
        return out

    def _years(self, X: pd.DataFrame) -> np.ndarray:
        years = _numbers(X["AÑO"].to_numpy()) if "AÑO" in X.columns else np.full(len(X), np.nan)
        return np.where(np.isnan(years), float(self.year), years)

    def flight_days(self, X: pd.DataFrame) -> np.ndarray:
        """Day number (`day_numbers`) of each flight's scheduled day, NaN where unknown."""

        def column(name: str) -> np.ndarray:
            return _numbers(X[name].to_numpy()) if name in X.columns else np.full(len(X), np.nan)

        return day_numbers(self._years(X), column("MES"), column("DIA"))

    @staticmethod
    def flight_minutes(X: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        """Scheduled minute since 1970 of each flight (NaN without day, hour or minute)."""
        hour = _numbers(X["HORA"].to_numpy()) if "HORA" in X.columns else np.full(len(X), np.nan)
        minute = _numbers(X["MIN"].to_numpy()) if "MIN" in X.columns else np.full(len(X), np.nan)
        return days * 1440 + hour * 60 + minute

    def _record(
        self, keys: Mapping[tuple[str, ...], np.ndarray], days: np.ndarray, y: np.ndarray, X: pd.DataFrame
    ) -> None:
        dated = ~np.isnan(days)
        if not dated.any():
            return
        if getattr(self, "ledger_", None) is None:  # an artifact from before per-flight merging
            self.ledger_ = FlightLedger()  # (its stored days cannot be told apart by flight)
        identity = [X[field].to_numpy()[dated] for field in IDENTITY_FIELDS if field in X.columns]
        change, count = self.ledger_.merge(flight_ids(identity, days[dated]), y[dated])
        for key, history in self.outcomes_.items():
            history.record(keys[key][dated], days[dated], change, count)
        if getattr(self, "intraday_", None):
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
        keys = {key: self._key(codes, key) for key in [*self.outcomes_, *getattr(self, "intraday_", {})]}
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
            blocks.append(_numbers(X[field].to_numpy())[:, None])
        for key in spec["history"]:
            blocks.append(self._lookup(self.history_[key], key_codes(key), self.prior_)[:, None])
        for key in spec["congestion"]:
            blocks.append(self._lookup(self.congestion_[key], key_codes(key), 0.0)[:, None])
        days = self.flight_days(X) if self.holidays_ is not None or self.outcomes_ else None
        if self.holidays_ is not None:
            blocks.append(holiday_features(days, self.holidays_))
        if self.outcomes_:
            blocks.append(self._recent(key_codes, days))
        if getattr(self, "intraday_", None):
            blocks.append(self._same_day(key_codes, X, days))
        if getattr(self, "schedule_", None) is not None:
            blocks.append(self._schedule(X, codes))
        return np.hstack(blocks).astype(np.float32)

    def _recent(self, key_codes: Callable[[tuple[str, ...]], np.ndarray], days: np.ndarray) -> np.ndarray:
        """Smoothed delay rate of each recent window, over days strictly before the flight's
        day, slid back to end on the last recorded day when the history is older (or the day
        unknown)."""
        after_last = 0.0 if np.isnan(self.outcomes_until_) else self.outcomes_until_ + 1
        # lag_days_ (benchmarks only): score as if the feed were that many days late.
        lagged = days - getattr(self, "lag_days_", 0)
        end = np.where(np.isnan(days), after_last, np.minimum(lagged, after_last)).astype(np.int64)
        columns = []
        for key, width in self.spec_["recent"]:
            delayed, flights = self.outcomes_[key].window(key_codes(key), end - width, end)
            columns.append((delayed + self.smoothing * self.prior_) / (flights + self.smoothing))
        return np.column_stack(columns)

    def _same_day(
        self, key_codes: Callable[[tuple[str, ...]], np.ndarray], X: pd.DataFrame, days: np.ndarray
    ) -> np.ndarray:
        """Smoothed delay rate of the flight's own day, over flights scheduled at least
        INTRADAY_AHEAD_MINUTES before it (empty, so the prior, when the day was not fed)."""
        minutes = self.flight_minutes(X, days)
        known = ~np.isnan(minutes)
        start = np.where(known, np.nan_to_num(days) * 1440, 0).astype(np.int64)
        end = np.where(known, np.nan_to_num(minutes) - INTRADAY_AHEAD_MINUTES + 1, 0).astype(np.int64)
        end = np.maximum(end, start)
        columns = []
        for key in self.spec_["intraday"]:
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
        names += [f"same_day_rate[{','.join(key) or 'all'}]" for key in spec.get("intraday", [])]
        names += [
            f"scheduled_vs_norm[{','.join(key) or 'all'};{span}]" for key, span in spec.get("schedule", [])
        ]
        return np.asarray(names, dtype=object)
