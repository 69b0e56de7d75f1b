"""Anomalous delay days per airport: daily aggregates, Random Cut Forest scores, threshold, plots.

from latam_airlines.anomalies import load_year, find_anomalies, write_anomaly_report
flights, year = load_year("data/interim/flights.parquet", "latest")
table, threshold = find_anomalies(flights)          # rrcf, seeded, mean + 3 std threshold
write_anomaly_report(table, "reports/anomalies", year)
# or all of it, as `latam anomalies` does: run_anomaly_report("data/interim/flights.parquet", "latest", ...)
"""

from latam_airlines.anomalies.daily import (
    FEATURES,
    GROUPINGS,
    choose_sides,
    daily_airport_table,
    feature_matrix,
)
from latam_airlines.anomalies.plots import plot_airport_days
from latam_airlines.anomalies.report import (
    CSV_COLUMNS,
    CSV_NAME,
    find_anomalies,
    flag_anomalies,
    plot_airports,
    write_anomaly_report,
)
from latam_airlines.anomalies.run import AnomalyRun, run_anomaly_report, scoring_settings
from latam_airlines.anomalies.scoring import (
    METHODS,
    ScoringSettings,
    anomaly_threshold,
    isolation_forest_scores,
    rrcf_scores,
    score_airport_days,
)
from latam_airlines.anomalies.sources import load_year, locate_year, read_flight_delays, year_in_name

__all__ = [
    "AnomalyRun",
    "CSV_COLUMNS",
    "CSV_NAME",
    "FEATURES",
    "GROUPINGS",
    "METHODS",
    "ScoringSettings",
    "anomaly_threshold",
    "choose_sides",
    "daily_airport_table",
    "feature_matrix",
    "find_anomalies",
    "flag_anomalies",
    "isolation_forest_scores",
    "load_year",
    "locate_year",
    "plot_airport_days",
    "plot_airports",
    "read_flight_delays",
    "rrcf_scores",
    "run_anomaly_report",
    "score_airport_days",
    "scoring_settings",
    "write_anomaly_report",
    "year_in_name",
]
