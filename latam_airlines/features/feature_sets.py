"""The feature-set table: which canonical fields each named set turns into which features.

Each set names the fields used as categories, as plain numbers, as history keys (smoothed
delay rate per value combination) and as congestion keys (training-schedule counts);
"holidays": True adds the holiday features (data/calendar.py, from AÑO, MES and DIA);
"recent" lists (key, days) whose delay rate over the last `days` days before the flight's
day is a feature (features/outcome_history.py); "last_day" lists keys whose latest fed day's
share delayed is a feature; "intraday" lists keys of same-day rates; "time_of_day" adds a
periodic spline of the scheduled time of day (and its interactions); "params" holds model
settings the set asks for (models/pipelines.py merges them);
"combos" (CatBoost) lists combinations coded like categories. `FlightFeatures`
(features/transformers.py) builds the matrix of a set.
"""

from __future__ import annotations

from typing import Any

FEATURE_SETS: dict[str, dict[str, Any]] = {
    # What the API's minimal record {OPERA, TIPOVUELO, MES} supports. The month is a
    # category (a linear month extrapolated 0.40 -> 0.58 for LATAM national flights while the
    # observed rates stayed 0.11-0.17), with smoothed delay rates per month and per
    # airline x type x month (an unseen month gets the prior); the recent rates of SCL, the
    # airline and airline x type over 7 and 28 days follow the level (a record without a day
    # reads the last recorded days). The 7-day windows are a trap once the feed stops (they
    # slide back to the history's last week): a stale history switches to `minimal_stale`
    # (models/feed_tiers.py; reports/model_selection.md, sixth and seventh passes).
    "minimal": {
        "categorical": ["OPERA", "TIPOVUELO", "MES"],
        "numeric": [],
        "history": [("OPERA",), ("OPERA", "TIPOVUELO"), ("MES",), ("OPERA", "TIPOVUELO", "MES")],
        "congestion": [],
        "recent": [
            ((), 7),
            ((), 28),
            (("OPERA",), 7),
            (("OPERA",), 28),
            (("OPERA", "TIPOVUELO"), 7),
            (("OPERA", "TIPOVUELO"), 28),
        ],
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
        ],
        "congestion": [],
    },
}
# The minimal tier once the outcome feed has stopped (history older than the stale switch's
# days): the same fields with 28-day windows only (chosen on the backtests' frozen rows).
FEATURE_SETS["minimal_stale"] = {
    **FEATURE_SETS["minimal"],
    "recent": [((), 28), (("OPERA",), 28), (("OPERA", "TIPOVUELO"), 28)],
}
FEATURE_SETS["congestion"] = {
    **FEATURE_SETS["history"],
    "congestion": [("DIANOM", "HORA"), ("OPERA", "Des_I"), ("OPERA", "Des_I", "HORA", "MIN")],
}
# "time_of_day": a periodic cubic B-spline of the scheduled time of day (HORA, MIN) on
# `knots` uniform knots over the 24 hours (period one day: 23:59 and 00:00 read nearly the
# same), plus the same basis times 0/1 "field == value" for each `by` item: the delay
# profile over the day of international flights differs from that of national ones. A smooth
# curve where HORA and MIN alone are straight lines. Chosen on the Jul-Aug / Sep-Oct backtests
# (reports/model_selection.md, seventh and eighth passes); in `static` too, so the stale tier
# reads it (+0.0014 / +0.0026 ROC-AUC on its Jul-Aug / Sep-Oct stale days, eighth pass, merged).
TIME_OF_DAY: dict[str, Any] = {"knots": 9, "by": [("TIPOVUELO", "I")]}
FEATURE_SETS["static"] = {**FEATURE_SETS["congestion"], "holidays": True, "time_of_day": TIME_OF_DAY}
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
# Four more windows that help only once the full set's logreg is strongly shrunk (C_flights
# below): the hour SCL-wide over 14 days, the route over 7, destination x hour and airline x
# destination x hour over 28. At C 0.5 the backtests disagreed on them (sixth pass); at the
# set's own C they add +0.0007 / +0.0013 ROC-AUC on Jul-Aug / Sep-Oct (issue-12rank2).
SHRUNK_WINDOWS: list[tuple[tuple[str, ...], int]] = [
    (("HORA",), 14), (("OPERA", "Des_I"), 7), (("Des_I", "HORA"), 28), (("OPERA", "Des_I", "HORA"), 28),
]  # fmt: skip
# "last_day": per key, the share delayed on its latest fed day before the flight's (at most
# LAST_DAY_MAX_AGE days back) and whether it flew then: yesterday's same slot, route-hour,
# route and airline-hour, then SCL, airline, destination and airline x type, unsmoothed.
# Chosen on the Jul-Aug / Sep-Oct backtests (reports/model_selection.md, seventh pass).
LAST_DAY_KEYS: list[tuple[str, ...]] = [
    ("OPERA", "Des_I", "HORA", "MIN"), ("OPERA", "Des_I", "HORA"), ("OPERA", "Des_I"), ("OPERA", "HORA"),
    (), ("OPERA",), ("Des_I",), ("OPERA", "TIPOVUELO"),
]  # fmt: skip
LAST_DAY_MAX_AGE = 7
# "params": model settings the set asks for, per model (over models/pipelines.py's
# HYPERPARAMETERS; explicit or tuned params still win). The full set's ~330 standardised
# columns, many of them overlapping rates, rank better much more shrunk: logreg C 0.5 -> 0.001
# on the backtests' 34-45k training flights (Jul-Aug / Sep-Oct screen: +0.006 / +0.005
# ROC-AUC; flat over 0.0005-0.002; eighth pass). scikit-learn's C multiplies the *summed*
# loss, so the same C shrinks a small table far harder: "C_flights" sets C = C_flights /
# training flights (20: C 0.0005 at 40k flights), the same shrinkage per flight at any size.
# 40 -> 20 with SHRUNK_WINDOWS: +0.0002 / +0.0006 fed ROC-AUC, Brier lower (issue-12rank2).
FEATURE_SETS["full"] = {
    **FEATURE_SETS["static"],
    "recent": RECENT_WINDOWS + SHRUNK_WINDOWS,
    "last_day": LAST_DAY_KEYS,
    "params": {"logreg": {"C_flights": 20.0}},
}
# The intraday option: `full` plus same-day delay rates of the flights scheduled at least
# INTRADAY_AHEAD_MINUTES before the flight, as known when outcomes are fed during the day
# (`latam outcomes` several times a day; recording merges per flight). "intraday" keys count
# from the day's start; "intraday_windows" (key, minutes) only the last `minutes` before that
# cut-off (the current hours of the day; the key must be an "intraday" key). Route, type and
# period keys and the 3-hour windows were chosen on the Jul-Aug / Sep-Oct backtests (ROC-AUC
# 0.726 -> 0.732 and 0.709 -> 0.717; reports/model_selection.md, sixth pass). Train it only
# for a deployment fed intraday: fed once a day, those rates are empty (prior).
INTRADAY_AHEAD_MINUTES = 60
FEATURE_SETS["intraday"] = {
    **FEATURE_SETS["full"],
    "intraday": [(), ("OPERA",), ("Des_I",), ("OPERA", "Des_I"), ("TIPOVUELO",), ("periodo_dia",)],
    "intraday_windows": [((), 180), (("OPERA",), 180)],
}
# Planned-schedule counts (the "schedule counts"): how busy the flight's day, hour
# and +-60 minutes are at SCL (and the airline's / destination's day) against the norm of
# that weekday (and hour) in the training schedule, as log((count + 1) / (norm + 1)).
# Schedules are published ahead, so this reads no outcome: the model keeps a schedule book
# seeded with the training rows and extended by `record_schedule` (a day absent from the
# book reads 0, "a typical day").
SCHEDULE_COUNTS: list[tuple[tuple[str, ...], str]] = [
    ((), "day"), ((), "hour"), ((), "around"), (("OPERA",), "day"), (("Des_I",), "day"),
]  # fmt: skip
SCHEDULE_SPAN_MINUTES = 60  # "around": flights scheduled within this many minutes either side
FEATURE_SETS["static_schedule"] = {**FEATURE_SETS["static"], "schedule": SCHEDULE_COUNTS}
FEATURE_SETS["full_schedule"] = {**FEATURE_SETS["full"], "schedule": SCHEDULE_COUNTS}
FEATURE_SETS["intraday_schedule"] = {**FEATURE_SETS["intraday"], "schedule": SCHEDULE_COUNTS}
# For CatBoost, which learns its own ordered target statistics: raw categories plus the
# combinations ("combos", coded like categories) whose delay rates the other sets precompute.
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
    recent += list(spec.get("last_day", []))
    if spec.get("schedule"):  # counts by day, hour and minute of the scheduled departure
        recent += [key for key, _ in spec["schedule"]] + [("HORA", "MIN")]
    keys = [
        field
        for key in spec["history"] + spec["congestion"] + spec.get("combos", []) + recent
        for field in key
    ]
    if spec.get("time_of_day"):
        keys += ["HORA", "MIN"] + [field for field, _ in spec["time_of_day"]["by"]]
    dates = ["AÑO", "MES", "DIA"] if spec.get("holidays") or recent else []
    return list(dict.fromkeys(spec["categorical"] + spec["numeric"] + keys + dates))
