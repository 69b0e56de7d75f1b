"""One anomaly run end to end, as `latam anomalies` and benchmarks/anomalies.py both do it:
read the year's flights -> daily airport table -> scores -> flags -> `<output>/<year>/` report.

Each stage's wall time is kept, so the benchmark reports the same run the CLI makes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from latam_airlines.anomalies.daily import daily_airport_table
from latam_airlines.anomalies.distributed import WORKER_STARTS
from latam_airlines.anomalies.report import flag_anomalies, write_anomaly_report
from latam_airlines.anomalies.scoring import ScoringSettings, score_and_explain
from latam_airlines.anomalies.sources import load_year
from latam_airlines.errors import InputError
from latam_airlines.parallel import cores

ENGINES = ("local", "dask")

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
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of this process per stage

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
    """ScoringSettings from an `anomalies:` settings section (`Settings.as_params()["anomalies"]`);
    `method` overrides its method."""
    fields = set(ScoringSettings.__dataclass_fields__) - {"seed", "method"}
    return ScoringSettings(
        **{name: options[name] for name in fields if name in options},
        method=method or options["method"],
        seed=int(seed),
    )


def _silent(total: int, description: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=True)


def run_anomaly_report(
    location: str,
    year: str | int,
    output: str | Path,
    settings: ScoringSettings | None = None,
    by: str | None = None,
    sigmas: float | None = None,
    n_jobs: int | None = None,
    progress: Progress | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    worker_start: str | None = None,
) -> AnomalyRun:
    """Find and report the anomalous airport-days of `year` ("latest" or YYYY) in `location`
    (a file or a folder of yearly files, local or URL); writes `<output>/<year>/`.

    `engine="local"` reads, aggregates and scores in this process (scoring and charts in
    `n_jobs` processes); `engine="dask"` reads, aggregates, scores and draws the charts on a
    Dask cluster (the one at `scheduler`, or a LocalCluster of `n_jobs` workers started as
    `worker_start` says), with the same results.
    What is not given comes from the settings' `anomalies:` section.
    """
    from latam_airlines.settings import current, filled

    settings = settings or ScoringSettings()
    by, sigmas, n_jobs, engine, scheduler, worker_start = filled(
        current().anomalies,
        by=by,
        sigmas=sigmas,
        n_jobs=n_jobs,
        engine=engine,
        scheduler=scheduler,
        worker_start=worker_start,
    )
    if engine not in ENGINES:
        raise InputError(f"expected one of {', '.join(ENGINES)}", column="--engine", value=engine)
    if scheduler and engine != "dask":
        raise InputError("--scheduler needs --engine dask", column="--scheduler", value=scheduler)
    if worker_start not in WORKER_STARTS:
        raise InputError(
            f"expected one of {', '.join(WORKER_STARTS)}", column="--worker-start", value=worker_start
        )
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    workers = cores(n_jobs)
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context((progress or _silent)(2, f"anomalies {year}"))
        clock, cpu_clock = time.perf_counter(), time.process_time()
        client = None
        if engine == "dask":
            from latam_airlines.anomalies.distributed import dask_airport_days, dask_client

            # The cluster stays up for the charts: its workers, started and warm, draw them.
            client = stack.enter_context(dask_client(scheduler, workers, worker_start))
            seconds["cluster start"] = time.perf_counter() - clock
            cpu["cluster start"] = time.process_time() - cpu_clock
            clock, cpu_clock = time.perf_counter(), time.process_time()
            daily, scored, chosen_year, flight_count = dask_airport_days(location, year, by, settings, client)
            seconds["read + aggregate + score (dask)"] = time.perf_counter() - clock
            cpu["read + aggregate + score (dask)"] = time.process_time() - cpu_clock
        else:
            flights, chosen_year = load_year(location, year)
            flight_count = len(flights)
            seconds["read"] = time.perf_counter() - clock
            cpu["read"] = time.process_time() - cpu_clock
            clock, cpu_clock = time.perf_counter(), time.process_time()
            daily = daily_airport_table(flights, by)
            del flights
            seconds["aggregate"] = time.perf_counter() - clock
            cpu["aggregate"] = time.process_time() - cpu_clock
            bar.total = 2 * daily["airport"].nunique()
            clock, cpu_clock = time.perf_counter(), time.process_time()
            scored = score_and_explain(daily, settings, n_jobs=n_jobs, on_airport=bar.update)
            seconds["score"] = time.perf_counter() - clock
            cpu["score"] = time.process_time() - cpu_clock
        airports = daily["airport"].nunique()
        # Airports too small to score are done, and get no chart: the bar counts charts to draw.
        bar.total = airports + int(daily.loc[scored["score"].notna().to_numpy(), "airport"].nunique())
        bar.update(airports - bar.n)
        clock, cpu_clock = time.perf_counter(), time.process_time()
        table, threshold = flag_anomalies(daily, scored, settings.method, sigmas, settings)
        seconds["flag + explain"] = time.perf_counter() - clock
        cpu["flag + explain"] = time.process_time() - cpu_clock
        clock, cpu_clock = time.perf_counter(), time.process_time()
        folder = write_anomaly_report(
            table, output, chosen_year, n_jobs=n_jobs, on_airport=bar.update, client=client
        )
        seconds["plot + write"] = time.perf_counter() - clock
        cpu["plot + write"] = time.process_time() - cpu_clock
    return AnomalyRun(chosen_year, flight_count, daily, table, threshold, folder, seconds, cpu)
