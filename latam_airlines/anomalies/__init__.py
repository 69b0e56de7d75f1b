"""Anomalous delay days per airport: daily aggregates, Random Cut Forest scores, threshold, plots.

from latam_airlines.anomalies import load_year, find_anomalies, write_anomaly_report
flights, year = load_year("data/interim/flights.parquet", "latest")
table, threshold = find_anomalies(flights)          # krcf, seeded, mean + 3 std threshold
write_anomaly_report(table, "reports/anomalies", year)
# or all of it, as `latam anomalies` does: run_anomaly_report("data/interim/flights.parquet", "latest", ...)
"""

from __future__ import annotations

import importlib

# Each name's module, imported on first use (PEP 562): a worker process that only scores (or
# only draws) imports what it runs, not matplotlib, rrcf and the report with it.
_EXPORTS = {
    "FEATURES": "daily",
    "GROUPINGS": "daily",
    "choose_sides": "daily",
    "daily_airport_table": "daily",
    "feature_matrix": "daily",
    "plot_airport_days": "plots",
    "CSV_COLUMNS": "report",
    "CSV_NAME": "report",
    "find_anomalies": "report",
    "flag_anomalies": "report",
    "plot_airports": "report",
    "write_anomaly_report": "report",
    "AnomalyRun": "run",
    "run_anomaly_report": "run",
    "scoring_settings": "run",
    "METHODS": "scoring",
    "ScoringSettings": "scoring",
    "anomaly_threshold": "scoring",
    "isolation_forest_scores": "scoring",
    "score_airport_days": "scoring",
    "rrcf_scores": "rrcf_batch",
    "load_year": "sources",
    "locate_year": "sources",
    "read_flight_delays": "sources",
    "year_in_name": "sources",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
