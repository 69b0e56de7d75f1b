"""Anomalous airport-days end to end: scores -> flags and causes -> `<output>/<year>/`
(anomalies.csv, index.md listing the year's anomalies with their cause, one PNG per airport).

`<output>/<year>` is published whole by `latam_airlines.io.published_folder`: locally a symlink
switched in one step onto a new version folder `<output>/.builds/<year>-<stamp>-*/` (a reader
always finds a whole report, a failed or killed run leaves the live one as it was); on S3 the
report is uploaded under a staging prefix, then copied onto `<output>/<year>/` object by object
(see that function for what a reader sees meanwhile).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import FEATURES, daily_airport_table
from latam_airlines.anomalies.plots import airport_png, cause_label
from latam_airlines.anomalies.scoring import (
    STATUS_SMALL_AIRPORT,
    STATUS_SMALL_DAY,
    ScoringSettings,
    anomaly_threshold,
    attribute_flagged,
    score_and_explain,
)
from latam_airlines.io import is_url, join, published_folder, write_table, write_text

log = logging.getLogger(__name__)

CSV_NAME = "anomalies.csv"
INDEX_NAME = "index.md"
CSV_COLUMNS = [
    "airport", "date", "flights", "mean_delay", "score", "threshold", "is_anomaly",
    "delayed_share", "p90_delay", "method", "status", "cause", "cause_direction", "cause_share",
    *[f"contribution_{name}" for name in FEATURES],
]  # fmt: skip


def explain(daily: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """`cause` (the feature that contributed most to the score), `cause_direction` (`high` or
    `low`: the day's value against the airport's mean over its scored days) and `cause_share`
    (that feature's share of the score), for every scored day."""
    contributions = scored[[f"contribution_{name}" for name in FEATURES]].to_numpy(dtype=float)
    has = ~np.isnan(contributions).any(axis=1)
    best = np.argmax(np.where(np.isnan(contributions), -np.inf, contributions), axis=1)
    total = np.nansum(contributions, axis=1)
    top = contributions[np.arange(len(best)), best]
    share = np.divide(top, total, out=np.full(len(best), np.nan), where=has & (total > 0))
    values = daily[FEATURES].to_numpy(dtype=float)
    mask = pd.DataFrame(np.where(has[:, None], values, np.nan), columns=FEATURES, index=daily.index)
    means = mask.groupby(daily["airport"].to_numpy()).transform("mean").to_numpy()
    above = values[np.arange(len(best)), best] >= means[np.arange(len(best)), best]
    names = np.asarray(FEATURES, dtype=object)[best]
    return pd.DataFrame(
        {
            "cause": np.where(has, names, None),
            "cause_direction": np.where(has, np.where(above, "high", "low"), None),
            "cause_share": share,
        },
        index=daily.index,
    )


def flag_anomalies(
    daily: pd.DataFrame,
    scores: np.ndarray | pd.DataFrame,
    method: str,
    sigmas: float = 3.0,
    settings: ScoringSettings | None = None,
) -> tuple[pd.DataFrame, float]:
    """The report table (CSV_COLUMNS) and its threshold: a day is anomalous when its score
    exceeds mean + `sigmas` std of all scores. Unscored days keep an empty score.

    `scores` is `score_and_explain`'s frame (scores, contributions, status) or bare scores.
    With the `settings` the scores were made with, every anomalous day gets krcf's own
    attribution (`attribute_flagged`), also one beyond its airport's `explain_share`."""
    if not isinstance(scores, pd.DataFrame):
        values = np.asarray(scores, dtype=float)
        scores = pd.DataFrame({"score": values}, index=daily.index)
        for name in FEATURES:
            scores[f"contribution_{name}"] = np.nan
        scores["status"] = np.where(np.isnan(values), "not scored", "")
    values = scores["score"].to_numpy(dtype=float)
    threshold = anomaly_threshold(values, sigmas)
    if settings is not None and "attributed" in scores:
        scores = attribute_flagged(daily, scores, threshold, settings)
    table = pd.concat(
        [
            daily.reset_index(drop=True),
            scores.drop(columns=[c for c in ("airport", "date") if c in scores]).reset_index(drop=True),
            explain(daily, scores).reset_index(drop=True),
        ],
        axis=1,
    ).assign(threshold=threshold, is_anomaly=np.nan_to_num(values, nan=-np.inf) > threshold, method=method)
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
    scored = score_and_explain(daily, settings, n_jobs=n_jobs)
    return flag_anomalies(daily, scored, settings.method, sigmas, settings)


def chart_name(airport: str) -> str:
    """`<AIRPORT>.png`, with anything but letters, digits, - and _ replaced (codes come from data)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", airport) + ".png"


# What a chart needs of the report table: fewer columns to copy into batches and ship to workers.
CHART_COLUMNS = [
    "airport",
    "date",
    "flights",
    "mean_delay",
    "score",
    "is_anomaly",
    "cause",
    "cause_direction",
]


def _chart_batch(frames: list[pd.DataFrame], title_suffix: str, span: tuple) -> list[tuple[str, bytes]]:
    return [
        (chart_name(str(frame["airport"].iloc[0])), airport_png(frame, title_suffix, span))
        for frame in frames
    ]


def plot_airports(
    table: pd.DataFrame,
    folder: Path,
    title_suffix: str = "",
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
    client=None,
    meanwhile: Callable[[], None] | None = None,
) -> list[str]:
    """One PNG per scored airport in `folder` (its unscored days drawn too), all over the table's
    whole date range; returns the airports plotted. Charts are drawn here, in `n_jobs`
    processes, or on the workers of the Dask `client` (PNG bytes come back: the workers need
    no access to `folder`). `folder` is a fresh report folder (`published_folder`): files go
    straight in, the folder is what is published atomically.

    `meanwhile()` (other writing of the report) runs before the charts are collected: while the
    Dask workers draw them, or here before drawing."""
    span = (table["date"].min(), table["date"].max())
    scored_airports = table.loc[table["score"].notna(), "airport"].unique()
    scored = table.loc[table["airport"].isin(scored_airports), CHART_COLUMNS]
    frames = [frame for _, frame in scored.groupby("airport", sort=True)]
    workers = 1
    if client is not None:
        workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    elif n_jobs != 1 and len(frames) >= 24:  # a few charts: cheaper here than starting processes
        from latam_airlines.parallel import cores

        workers = cores(n_jobs)
    batches = (
        [frames[start :: workers * 4] for start in range(workers * 4)]
        if workers > 1
        else [[f] for f in frames]
    )
    batches = [batch for batch in batches if batch]
    draw = functools.partial(_chart_batch, title_suffix=title_suffix, span=span)
    if client is not None:
        # Submitted now: the workers draw while this process does `meanwhile`.
        done = (future.result() for future in client.map(draw, batches, pure=False))
    else:
        from latam_airlines.parallel import run_batches

        done = (charts for _, charts in run_batches(draw, batches, workers))
    if meanwhile:
        meanwhile()
    for charts in done:
        for name, png in charts:
            (Path(folder) / name).write_bytes(png)
        if on_airport:
            on_airport(len(charts))
    return [str(frame["airport"].iloc[0]) for frame in frames]


def summary_markdown(table: pd.DataFrame, year: int, charts: list[str]) -> str:
    """index.md: the year's anomalous airport-days, highest score first, with what drove each,
    then the airports listed but not scored."""
    flagged = table[table["is_anomaly"]].sort_values(["score", "airport"], ascending=[False, True])
    method = str(table["method"].iloc[0]) if len(table) else ""
    threshold = float(table["threshold"].iloc[0]) if len(table) else float("nan")
    scored = table["score"].notna()
    lines = [
        f"# Anomalous airport-days, {year}",
        "",
        f"{len(flagged):,} anomalous of {int(scored.sum()):,} scored airport-days at "
        f"{table.loc[scored, 'airport'].nunique()} airports ({method}; anomalous: score > "
        f"{threshold:.4g}, mean + sigmas x std of all scores). Cause: the feature that contributed "
        "most to the score (its share in brackets), high or low against the airport's usual days. "
        f"Every airport-day is in [{CSV_NAME}]({CSV_NAME}).",
        "",
        "| # | date | airport | flights | mean delay (min) | share delayed | p90 delay (min) | score | cause |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    chart_set = set(charts)
    for rank, (_, day) in enumerate(flagged.iterrows(), start=1):
        airport = str(day["airport"])
        shown = f"[{airport}]({chart_name(airport)})" if airport in chart_set else airport
        share = f" ({day['cause_share']:.0%})" if pd.notna(day["cause_share"]) else ""
        lines.append(
            f"| {rank} | {day['date']:%Y-%m-%d} | {shown} | {int(day['flights'])} | {day['mean_delay']:.0f} "
            f"| {day['delayed_share']:.0%} | {day['p90_delay']:.0f} | {day['score']:.3g} | {cause_label(day)}{share} |"
        )
    if flagged.empty:
        lines.append("| | no anomalous day | | | | | | | |")
    unscored = table[~scored]
    if len(unscored):
        small = unscored[unscored["status"] == STATUS_SMALL_AIRPORT]["airport"].unique()
        lines += [
            "",
            f"Listed but not scored: {len(unscored):,} airport-days, of which "
            f"{int((unscored['status'] == STATUS_SMALL_DAY).sum()):,} days under the minimum flights per day "
            f"(anomalies.min_flights_per_day) and {len(small)} small airports (anomalies.min_airport_flights, "
            "anomalies.min_days)"
            + (f": {', '.join(map(str, sorted(small)[:40]))}" if len(small) else "")
            + (" ..." if len(small) > 40 else "")
            + ".",
        ]
    return "\n".join(lines) + "\n"


def write_anomaly_report(
    table: pd.DataFrame,
    output: str | Path,
    year: int,
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
    client=None,
) -> str | Path:
    """Write `<output>/<year>/anomalies.csv`, `index.md` and one `<AIRPORT>.png` per scored
    airport, published whole (see the module's docstring); returns `<output>/<year>`. The
    charts are drawn in `n_jobs` processes, or on the workers of the Dask `client`."""
    target = join(output, str(year))
    method = str(table["method"].iloc[0]) if len(table) else ""
    threshold = float(table["threshold"].iloc[0]) if len(table) else float("nan")
    rounding = {"mean_delay": 2, "delayed_share": 4, "p90_delay": 2, "score": 4, "threshold": 4}
    rounding |= {"cause_share": 3} | {f"contribution_{name}": 4 for name in FEATURES}

    def write_csv() -> None:
        csv = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"))
        write_table(csv.round(rounding), folder / CSV_NAME)

    with published_folder(target) as folder:
        # The CSV is written while the Dask workers (if any) draw the charts.
        suffix = f"\n{year}, {method} score > {threshold:.3g}"
        charts = plot_airports(table, folder, suffix, n_jobs, on_airport, client, meanwhile=write_csv)
        write_text(summary_markdown(table, year, charts), folder / INDEX_NAME)
    log.info("wrote the %d report to %s", year, target)
    return target if is_url(target) else Path(target)
