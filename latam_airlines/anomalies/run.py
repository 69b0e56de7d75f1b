"""One anomaly run end to end, as `latam anomalies` and benchmarks/anomalies.py both do it:
read the year's flights -> daily airport table -> scores -> flags -> `<output>/<year>/` report.

Each stage's wall time is kept, so the benchmark reports the same run the CLI makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import daily_airport_table
from latam_airlines.anomalies.report import flag_anomalies, write_anomaly_report
from latam_airlines.anomalies.scoring import ScoringSettings, score_airport_days
from latam_airlines.anomalies.sources import load_year

# progress(total, description) -> a context manager yielding a tqdm-like bar (update, total, n).
Progress = Callable[[int, str], Any]


@dataclass
class AnomalyRun:
    """What one run read, found and wrote, and the seconds each stage took."""

    year: int
    flights: int
    daily: pd.DataFrame
    table: pd.DataFrame
    threshold: float
    folder: Path
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def airports(self) -> int:
        return int(self.table["airport"].nunique())

    @property
    def scored_airports(self) -> int:
        return int(self.table.loc[self.table["score"].notna(), "airport"].nunique())

    @property
    def flagged(self) -> pd.DataFrame:
        return self.table[self.table["is_anomaly"]]


def scoring_settings(options: Mapping[str, Any], seed: int, method: str | None = None) -> ScoringSettings:
    """ScoringSettings from params.yaml's `anomalies:` section; `method` overrides its method."""
    return ScoringSettings(
        method=method or options.get("method", "rrcf"),
        trees_per_day=int(options.get("trees_per_day", ScoringSettings.trees_per_day)),
        tree_size=int(options.get("tree_size", ScoringSettings.tree_size)),
        n_estimators=int(options.get("n_estimators", ScoringSettings.n_estimators)),
        min_days=int(options.get("min_days", ScoringSettings.min_days)),
        seed=int(seed),
    )


def _silent(total: int, description: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=True)


def run_anomaly_report(
    location: str,
    year: str | int,
    output: str | Path,
    settings: ScoringSettings,
    by: str = "auto",
    sigmas: float = 3.0,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> AnomalyRun:
    """Find and report the anomalous airport-days of `year` ("latest" or YYYY) in `location`
    (a file or a folder of yearly files, local or URL); writes `<output>/<year>/`."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    flights, chosen_year = load_year(location, year)
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    daily = daily_airport_table(flights, by)
    seconds["aggregate"] = time.perf_counter() - clock
    airports = daily["airport"].nunique()
    with (progress or _silent)(2 * airports, f"anomalies {chosen_year}") as bar:
        clock = time.perf_counter()
        scores = score_airport_days(daily, settings, n_jobs=n_jobs, on_airport=bar.update)
        # Airports too small to score are done, and get no chart: the bar counts charts to draw.
        bar.total = airports + int(daily.loc[~np.isnan(scores), "airport"].nunique())
        bar.update(airports - bar.n)
        table, threshold = flag_anomalies(daily, scores, settings.method, sigmas)
        seconds["score"] = time.perf_counter() - clock
        clock = time.perf_counter()
        folder = write_anomaly_report(table, output, chosen_year, n_jobs=n_jobs, on_airport=bar.update)
        seconds["plot + write"] = time.perf_counter() - clock
    return AnomalyRun(chosen_year, len(flights), daily, table, threshold, folder, seconds)
