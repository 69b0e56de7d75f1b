"""Anomalous airport-days end to end: scores -> flags -> `<output>/<year>/` (CSV + one PNG per airport).

The year folder is built beside its final place and swapped in whole, so a reader never sees
a half-written report (and a failed run leaves the previous report untouched).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import daily_airport_table
from latam_airlines.anomalies.plots import plot_airport_days
from latam_airlines.anomalies.scoring import ScoringSettings, anomaly_threshold, score_airport_days
from latam_airlines.io import write_table

log = logging.getLogger(__name__)

CSV_NAME = "anomalies.csv"
CSV_COLUMNS = [
    "airport", "date", "flights", "mean_delay", "score", "threshold", "is_anomaly",
    "delayed_share", "p90_delay", "method",
]  # fmt: skip


def flag_anomalies(
    daily: pd.DataFrame, scores: np.ndarray, method: str, sigmas: float = 3.0
) -> tuple[pd.DataFrame, float]:
    """The report table (CSV_COLUMNS) and its threshold: a day is anomalous when its score
    exceeds mean + `sigmas` std of all scores. Unscored airports keep an empty score."""
    threshold = anomaly_threshold(scores, sigmas)
    table = daily.assign(
        score=scores,
        threshold=threshold,
        is_anomaly=np.nan_to_num(scores, nan=-np.inf) > threshold,
        method=method,
    )
    return table[CSV_COLUMNS], threshold


def find_anomalies(
    flights: pd.DataFrame,
    settings: ScoringSettings | None = None,
    by: str = "auto",
    sigmas: float = 3.0,
    n_jobs: int = 1,
) -> tuple[pd.DataFrame, float]:
    """Flights (`Fecha-I, Ori-I, Des-I, dif_min`) -> scored airport-days and the threshold."""
    settings = settings or ScoringSettings()
    daily = daily_airport_table(flights, by)
    scores = score_airport_days(daily, settings, n_jobs=n_jobs)
    return flag_anomalies(daily, scores, settings.method, sigmas)


def chart_name(airport: str) -> str:
    """`<AIRPORT>.png`, with anything but letters, digits, - and _ replaced (codes come from data)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", airport) + ".png"


def _plot_batch(frames: list[pd.DataFrame], folder: str, title_suffix: str) -> int:
    for airport_days in frames:
        plot_airport_days(
            airport_days, Path(folder) / chart_name(str(airport_days["airport"].iloc[0])), title_suffix
        )
    return len(frames)


def plot_airports(
    table: pd.DataFrame,
    folder: Path,
    title_suffix: str = "",
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
) -> list[str]:
    """One PNG per scored airport in `folder`; returns the airports plotted."""
    scored = table[table["score"].notna()]
    frames = [frame for _, frame in scored.groupby("airport", sort=True)]
    if n_jobs == 1 or len(frames) < 8:
        for frame in frames:
            _plot_batch([frame], str(folder), title_suffix)
            if on_airport:
                on_airport(1)
    else:
        from joblib import Parallel, cpu_count, delayed

        workers = cpu_count() if n_jobs < 0 else n_jobs
        batches = [frames[start :: workers * 4] for start in range(workers * 4)]
        done = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_plot_batch)(batch, str(folder), title_suffix) for batch in batches if batch
        )
        for count in done:
            if on_airport:
                on_airport(count)
    return [str(frame["airport"].iloc[0]) for frame in frames]


@contextlib.contextmanager
def _swapped_in_folder(target: Path):
    """Yield an empty folder beside `target`; on success it replaces `target` whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.building-"))
    try:
        yield building
        os.chmod(building, 0o777 & ~_umask())
        if target.exists():
            retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, retired / target.name)
            os.replace(building, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_anomaly_report(
    table: pd.DataFrame,
    output: str | Path,
    year: int,
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
) -> Path:
    """Write `<output>/<year>/anomalies.csv` and `<output>/<year>/<AIRPORT>.png`; returns the folder."""
    target = Path(output) / str(year)
    method = str(table["method"].iloc[0]) if len(table) else ""
    threshold = float(table["threshold"].iloc[0]) if len(table) else float("nan")
    with _swapped_in_folder(target) as folder:
        csv = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"))
        write_table(
            csv.round({"mean_delay": 2, "delayed_share": 4, "p90_delay": 2, "score": 4, "threshold": 4}),
            folder / CSV_NAME,
        )
        plot_airports(table, folder, f"\n{year}, {method} score > {threshold:.3g}", n_jobs, on_airport)
    log.info("wrote the %d report to %s", year, target)
    return target
