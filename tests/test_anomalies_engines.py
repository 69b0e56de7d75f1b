"""`--engine dask` on a real Dask LocalCluster (127.0.0.1, started here): the same airport-days,
scores, causes and report as the in-process engine, from Parquet, a partitioned Parquet folder
and CSV; the US 2001 source (a real slice of the 3 M flights) read by both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latam_airlines.anomalies import ScoringSettings, run_anomaly_report
from latam_airlines.cli import main
from latam_airlines.datasets.us2001 import US2001_SAMPLE, sha256_of

SETTINGS = ScoringSettings(num_trees=15, seed=42)


@pytest.fixture(scope="module")
def scheduler():
    """A two-worker LocalCluster on 127.0.0.1 for this module; its address as --scheduler takes it."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    return run_anomaly_report(str(US2001_SAMPLE), "latest", tmp_path_factory.mktemp("local"), SETTINGS)


def test_shipped_slice_is_the_documented_real_data():
    assert sha256_of(US2001_SAMPLE) == "ce6f524fd024836914cff93a02fcdca8dd281d0eac2a786d05f8785a7c3ed859"
    records = pd.read_parquet(US2001_SAMPLE)
    assert list(records.columns) == ["date", "delay", "distance", "origin", "destination"]
    assert len(records) == 6590 and set(records["origin"]) == {"BTV", "FAI", "FAT"}


def test_us2001_maps_into_the_raw_and_interim_schema():
    from latam_airlines.data import load_raw, make_dataset

    interim = make_dataset(load_raw(str(US2001_SAMPLE), source="us2001"))
    records = pd.read_parquet(US2001_SAMPLE)
    assert len(interim) == len(records)  # no real flight taken for a duplicate
    np.testing.assert_array_equal(interim["dif_min"].to_numpy(), records["delay"].to_numpy(dtype=float))
    assert interim["AÑO"].eq(2001).all() and set(interim["Ori-I"]) == {"BTV", "FAI", "FAT"}


@pytest.mark.slow
def test_dask_engine_equals_the_local_engine(scheduler, local_run, tmp_path: Path):
    run = run_anomaly_report(
        str(US2001_SAMPLE), "latest", tmp_path, SETTINGS, engine="dask", scheduler=scheduler
    )
    assert (run.year, run.flights) == (local_run.year, local_run.flights) == (2001, 6590)
    pd.testing.assert_frame_equal(run.table, local_run.table, check_dtype=False)
    assert run.table["is_anomaly"].any() and run.table["score"].notna().sum() > 500
    local_csv = (local_run.folder / "anomalies.csv").read_text()
    assert (run.folder / "anomalies.csv").read_text() == local_csv


@pytest.mark.slow
def test_dask_reads_csv_and_partitioned_parquet_alike(scheduler, local_run, tmp_path: Path):
    records = pd.read_parquet(US2001_SAMPLE)
    csv = tmp_path / "flights_2001.csv"
    records.to_csv(csv, index=False)
    folder = tmp_path / "flights_2001.parquet"
    folder.mkdir()
    for month, part in records.groupby(records["date"].dt.month):
        part.to_parquet(folder / f"part-{month:02d}.parquet", index=False)
    for source in (csv, folder):
        run = run_anomaly_report(
            str(source), "2001", tmp_path / "out", SETTINGS, engine="dask", scheduler=scheduler
        )
        pd.testing.assert_frame_equal(run.table, local_run.table, check_dtype=False)
    in_process = run_anomaly_report(
        str(folder), "latest", tmp_path / "again", SETTINGS
    )  # local reads folders too
    pd.testing.assert_frame_equal(in_process.table, local_run.table, check_dtype=False)


@pytest.mark.slow
def test_dask_engine_names_the_years_present_when_the_year_has_no_flights(scheduler, tmp_path: Path):
    from latam_airlines.errors import InputError

    with pytest.raises(InputError, match="no flights scheduled in this year; years present: 2001"):
        run_anomaly_report(str(US2001_SAMPLE), "1999", tmp_path, SETTINGS, engine="dask", scheduler=scheduler)


@pytest.mark.slow
def test_cli_dask_engine_on_a_scheduler(scheduler, tmp_path: Path, capsys):
    code = main(
        ["--quiet", "anomalies", "--input", str(US2001_SAMPLE), "--output", str(tmp_path),
         "--engine", "dask", "--scheduler", scheduler]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "2001: 6,590 flights" in out and "cause:" in out and "index.md" in out
    assert (tmp_path / "2001" / "index.md").exists()


@pytest.mark.slow
@pytest.mark.parametrize("worker_start", ["fork", "forkserver", "spawn", "threads"])
def test_a_local_cluster_gives_the_same_report_however_its_workers_start(worker_start, local_run, tmp_path):
    run = run_anomaly_report(
        str(US2001_SAMPLE), "latest", tmp_path, SETTINGS, engine="dask", n_jobs=2, worker_start=worker_start
    )
    pd.testing.assert_frame_equal(run.table, local_run.table, check_dtype=False)
    assert (run.folder / "anomalies.csv").read_text() == (local_run.folder / "anomalies.csv").read_text()
    charts = sorted(local_run.folder.glob("*.png"))  # threads draw at once: each its own figure
    assert charts and all((run.folder / chart.name).read_bytes() == chart.read_bytes() for chart in charts)


def test_the_settings_take_every_worker_start_the_engine_knows():
    from typing import get_args

    from latam_airlines.anomalies.distributed import WORKER_STARTS
    from latam_airlines.settings import AnomaliesSettings

    assert get_args(AnomaliesSettings.model_fields["worker_start"].annotation) == WORKER_STARTS
    assert AnomaliesSettings().worker_start == "fork"


@pytest.mark.slow
def test_forked_workers_start_with_the_modules_of_their_tasks_imported():
    import sys

    from latam_airlines.anomalies.distributed import WORKER_MODULES, dask_client

    def imported() -> list[str]:
        return [name for name in WORKER_MODULES if name not in sys.modules]

    with dask_client(None, 2, "fork") as client:
        missing = client.run(imported)
    assert len(missing) == 2 and not any(missing.values())
    with dask_client(None, 1, "spawn") as client:  # a fresh interpreter imports them itself
        assert "krcf" in next(iter(client.run(imported).values()))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--engine", "spark"], "--engine"),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler needs --engine dask"),
        pytest.param(
            ["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"],
            "cannot reach the Dask scheduler",
            marks=pytest.mark.slow,  # the client's connect timeout
        ),
        (["--method", "svm"], "--method"),
        (["--engine", "dask", "--worker-start", "vfork"], "--worker-start"),
    ],
)
def test_engine_mistakes_exit_2_with_one_line(arguments, message, tmp_path: Path, capsys):
    code = main(
        ["--quiet", "anomalies", "--input", str(US2001_SAMPLE), "--output", str(tmp_path), *arguments]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2 and message in error and len(error.splitlines()) == 1


def test_dask_reads_a_raw_scl_csv_like_the_local_engine(scl_raw_path: Path, tmp_path: Path):
    """Raw SCL files go through make_dataset, which drops exact duplicate rows: Dask reads the
    CSV in blocks, and a row repeated in another block must still count once."""
    from latam_airlines.anomalies import load_year
    from latam_airlines.anomalies.distributed import read_flights_dask

    raw = pd.read_csv(scl_raw_path, dtype=str)
    csv = tmp_path / "scl_2017.csv"
    pd.concat([raw, raw.head(300)], ignore_index=True).to_csv(csv, index=False)  # 300 repeated rows
    local, _ = load_year(str(csv), "latest")
    assert len(local) == len(raw)
    flights = read_flights_dask((str(csv),), blocksize="256KB")
    assert flights.npartitions > 4  # the repeats land in other blocks than their originals
    distributed = flights.compute(scheduler="synchronous").drop(columns="year")
    key = ["Fecha-I", "Ori-I", "Des-I", "dif_min"]
    local = local[key].astype({"Ori-I": str, "Des-I": str})
    pd.testing.assert_frame_equal(
        distributed.astype({"Ori-I": str, "Des-I": str}).sort_values(key).reset_index(drop=True),
        local.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
