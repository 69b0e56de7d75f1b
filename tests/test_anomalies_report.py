"""The anomaly report folder: published whole by an atomic symlink switch, stale builds of killed
runs cleaned, causes in the CSV and index.md, small days and airports listed but not scored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latam_airlines.anomalies import CSV_COLUMNS, ScoringSettings, flag_anomalies, write_anomaly_report
from latam_airlines.anomalies.scoring import STATUS_SMALL_AIRPORT, STATUS_SMALL_DAY, score_and_explain
from latam_airlines.io import BUILDS


def airport_days(airport: str, flights_per_day, days: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2013-01-01", periods=days, freq="D")
    delays = rng.gamma(2.0, 6.0, size=days)
    return pd.DataFrame(
        {
            "airport": airport,
            "date": dates,
            "flights": np.broadcast_to(flights_per_day, days).astype("int64"),
            "mean_delay": delays,
            "delayed_share": np.clip(delays / 60, 0, 1),
            "p90_delay": delays * 2.5,
        }
    )


@pytest.fixture
def report_table() -> pd.DataFrame:
    """Two airports of 60 days: BIG (20 flights a day, one storm day), TINY (1-2 flights a day)."""
    big = airport_days("BIG", 20)
    big.loc[30, ["mean_delay", "delayed_share", "p90_delay"]] = [180.0, 1.0, 400.0]
    tiny = airport_days("TINY", np.tile([1, 2], 30), seed=1)
    daily = pd.concat([big, tiny], ignore_index=True)
    scored = score_and_explain(daily, ScoringSettings(num_trees=20, min_days=30, seed=1))
    table, _ = flag_anomalies(daily, scored, "krcf", sigmas=3)
    return table


def test_small_airports_and_days_are_listed_not_scored(report_table: pd.DataFrame):
    assert list(report_table.columns) == CSV_COLUMNS
    tiny = report_table[report_table["airport"] == "TINY"]
    assert len(tiny) == 60 and tiny["score"].isna().all() and not tiny["is_anomaly"].any()
    assert set(tiny["status"]) == {STATUS_SMALL_AIRPORT}
    big = report_table[report_table["airport"] == "BIG"]
    assert big["score"].notna().all() and set(big["status"]) == {""}
    storm = big.loc[big["score"].idxmax()]
    assert storm["date"] == pd.Timestamp("2013-01-31") and storm["is_anomaly"]
    assert (
        storm["cause"] in {"mean_delay", "p90_delay", "delayed_share"} and storm["cause_direction"] == "high"
    )
    contributions = storm[[c for c in CSV_COLUMNS if c.startswith("contribution_")]].astype(float)
    assert contributions.sum() == pytest.approx(storm["score"])  # RCF attribution adds up to the score


def test_a_day_under_the_minimum_is_listed_and_left_out_of_its_airports_forest():
    daily = airport_days("BIG", 20)
    daily.loc[5, "flights"] = 2
    settings = ScoringSettings(num_trees=10, min_days=30, seed=1)
    scored = score_and_explain(daily, settings)
    assert scored.loc[5, "status"] == STATUS_SMALL_DAY and np.isnan(scored.loc[5, "score"])
    # The other days' scores are those of a forest without that day.
    without = score_and_explain(daily.drop(index=5).reset_index(drop=True), settings)
    np.testing.assert_array_equal(scored["score"].drop(index=5).to_numpy(), without["score"].to_numpy())


def test_report_has_csv_index_and_charts_and_a_symlinked_year(report_table: pd.DataFrame, tmp_path: Path):
    folder = write_anomaly_report(report_table, tmp_path, 2013)
    assert folder == tmp_path / "2013" and folder.is_symlink()
    assert folder.resolve().parent == (tmp_path / BUILDS).resolve()
    table = pd.read_csv(folder / "anomalies.csv")
    assert list(table.columns) == CSV_COLUMNS and len(table) == 120
    assert sorted(p.name for p in folder.glob("*.png")) == ["BIG.png"]  # TINY is listed, not charted
    index = (folder / "index.md").read_text()
    first_row = next(line for line in index.splitlines() if line.startswith("| 1 |"))
    assert "2013-01-31" in first_row and "[BIG](BIG.png)" in first_row and " high (" in first_row
    assert "small airports" in index and "TINY" in index


def test_rerun_switches_versions_keeping_the_previous_one(report_table: pd.DataFrame, tmp_path: Path):
    first = write_anomaly_report(report_table, tmp_path, 2013).resolve()
    second = write_anomaly_report(report_table, tmp_path, 2013).resolve()
    third = write_anomaly_report(report_table, tmp_path, 2013).resolve()
    assert len({first, second, third}) == 3 and (tmp_path / "2013").resolve() == third
    versions = sorted(p for p in (tmp_path / BUILDS).iterdir() if p.is_dir())
    assert versions == sorted([second, third])  # live + previous (a reader may still be in it)


def test_readers_never_find_the_report_missing(report_table: pd.DataFrame, tmp_path: Path):
    write_anomaly_report(report_table.head(60), tmp_path, 2013)
    csv = tmp_path / "2013" / "anomalies.csv"
    misses, reads, stop = [], [0], threading.Event()

    def read_continuously():
        while not stop.is_set():
            try:
                csv.read_bytes()
                reads[0] += 1
            except FileNotFoundError:
                misses.append(1)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for _ in range(4):
            write_anomaly_report(report_table.head(60), tmp_path, 2013)
    finally:
        stop.set()
        reader.join()
    assert reads[0] > 0 and not misses


def test_an_old_plain_year_folder_is_replaced_by_the_link(report_table: pd.DataFrame, tmp_path: Path):
    old = tmp_path / "2013"
    old.mkdir()
    (old / "anomalies.csv").write_text("old layout\n")
    folder = write_anomaly_report(report_table, tmp_path, 2013)
    assert folder.is_symlink() and "old layout" not in (folder / "anomalies.csv").read_text()


KILLED_RUN = """
import sys, time, pandas as pd
from latam_airlines.anomalies import report
table = pd.read_pickle(sys.argv[1])
def stall(*args, **kwargs):
    print("building", flush=True)
    time.sleep(60)
report.plot_airports = stall
report.write_anomaly_report(table, sys.argv[2], 2013)
"""


@pytest.mark.slow  # a fresh interpreter imports the report stack
def test_a_killed_run_leaves_the_live_report_and_the_next_run_cleans_up(
    report_table: pd.DataFrame, tmp_path: Path
):
    live = write_anomaly_report(report_table, tmp_path, 2013).resolve()
    pickled = tmp_path / "table.pkl"
    report_table.to_pickle(pickled)
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(pickled), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert run.stdout.readline().strip() == "building"  # its version folder exists, half-built
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    builds = [p for p in (tmp_path / BUILDS).iterdir() if p.is_dir()]
    assert len(builds) == 2 and (tmp_path / "2013").resolve() == live  # untouched live report
    assert (tmp_path / "2013" / "anomalies.csv").exists()
    newest = write_anomaly_report(report_table, tmp_path, 2013).resolve()
    assert sorted(p for p in (tmp_path / BUILDS).iterdir() if p.is_dir()) == sorted([live, newest])


def test_a_chart_does_not_depend_on_the_callers_matplotlib_style():
    """A spawned Dask worker draws with matplotlib's defaults, a notebook after seaborn's theme:
    the same airport-days must give the same PNG bytes in both."""
    import seaborn as sns

    from latam_airlines.anomalies.plots import AirportChart

    dates = pd.date_range("2001-01-01", periods=40, freq="D")
    days = pd.DataFrame(
        {
            "airport": "ANC",
            "date": dates,
            "flights": np.arange(40) % 7 + 3,
            "mean_delay": np.linspace(-5, 60, 40),
            "score": np.linspace(0.1, 3.0, 40),
            "is_anomaly": np.arange(40) == 33,
        }
    )
    plain = AirportChart().png(days, " 2001")
    with sns.axes_style("darkgrid"), sns.plotting_context("talk"):
        themed = AirportChart().png(days, " 2001")
    assert themed == plain
