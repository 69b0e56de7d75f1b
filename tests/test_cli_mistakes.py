"""Every user mistake is exit 2 with one line (never exit 1, never a traceback): output paths
that cannot be written (checked before any work), folders, truncated or unreadable inputs,
impossible values in any file; the daily outcome feed can't corrupt the artifact; interrupted
writes leave the previous output usable and no stray files after the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from latam_airlines.cli import main
from latam_airlines.io import atomic_path, write_text


@pytest.fixture(scope="module")
def small_model(api_model_path: Path) -> Path:
    return api_model_path  # read only: the tests that change an artifact copy it first


def one_line_exit_2(argv: list[str], capsys) -> str:
    code = main(argv)
    error = capsys.readouterr().err
    lines = [line for line in error.splitlines() if line.strip()]
    assert code == 2, error
    assert len(lines) == 1 and lines[0].startswith("latam: error:"), error
    assert "Traceback" not in error
    return lines[0]


def _bad_outputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a_folder"
    folder.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {"folder": folder, "under_a_file": a_file / "out.csv", "file_as_folder": a_file}


@pytest.mark.parametrize("mistake", ["folder", "under_a_file"])
def test_every_command_checks_its_output_file_first(
    mistake, tmp_path, small_model, scl_raw_path, scl_features_path, capsys
):
    bad = _bad_outputs(tmp_path)[mistake]
    commands = [
        ["data", "make", "--source", "scl", "--input", str(scl_raw_path), "--output", str(bad)],
        ["features", "build", "--input", str(tmp_path / "missing.parquet"), "--output", str(bad)],
        ["train", "--data", str(scl_features_path), "--output", str(bad)],
        [
            "train",
            "--data",
            str(scl_features_path),
            "--output",
            str(tmp_path / "m.joblib"),
            "--metrics",
            str(bad),
        ],
        ["predict", "--model", str(small_model), "--input", str(scl_features_path), "--output", str(bad)],
        ["outcomes", "--model", str(bad), "--data", str(scl_features_path)],
        ["tune", "--data", str(scl_features_path), "--output", str(bad)],
        ["compare", "--data", str(scl_features_path), "--report", str(bad)],
    ]
    started = time.monotonic()
    for argv in commands:
        line = one_line_exit_2(["-q", *argv], capsys)
        assert str(bad) in line, line
    assert time.monotonic() - started < 20  # refused before reading, fitting or tuning anything
    assert not (tmp_path / "m.joblib").exists()


def test_output_folders_that_are_files_exit_2(tmp_path, small_model, scl_raw_path, scl_features_path, capsys):
    a_file = _bad_outputs(tmp_path)["file_as_folder"]
    commands = [
        [
            "evaluate",
            "--model",
            str(small_model),
            "--data",
            str(scl_features_path),
            "--reports-dir",
            str(a_file),
        ],
        ["anomalies", "--input", str(scl_raw_path), "--output", str(a_file)],
    ]
    for argv in commands:
        assert str(a_file) in one_line_exit_2(["-q", *argv], capsys)


def test_an_unwritable_output_folder_exits_2(tmp_path, scl_raw_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes through permission bits; a process's /proc folder refuses even root
        locked = Path("/proc/1")
        assert locked.is_dir() and not os.access(locked, os.W_OK)
    try:
        line = one_line_exit_2(
            [
                "-q",
                "data",
                "make",
                "--source",
                "scl",
                "--input",
                str(scl_raw_path),
                "--output",
                str(locked / "i.parquet"),
            ],
            capsys,
        )
        assert "permission denied" in line
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_folder_and_truncated_inputs_exit_2(tmp_path, small_model, scl_raw_path, scl_features_path, capsys):
    folder = tmp_path / "input.csv"
    folder.mkdir()
    truncated_raw = tmp_path / "raw.csv.gz"
    truncated_raw.write_bytes(scl_raw_path.read_bytes()[:20_000])
    truncated_features = tmp_path / "features.csv.gz"
    truncated_features.write_bytes(scl_features_path.read_bytes()[:20_000])
    out = tmp_path / "out.csv"
    cases = [
        (["data", "make", "--source", "scl", "--input", str(folder), "--output", str(out)], "folder"),
        (
            ["data", "make", "--source", "scl", "--input", str(truncated_raw), "--output", str(out)],
            "truncated",
        ),
        (["predict", "--model", str(small_model), "--input", str(folder), "--output", str(out)], "folder"),
        (
            [
                "predict",
                "--model",
                str(small_model),
                "--input",
                str(truncated_features),
                "--output",
                str(out),
            ],
            "truncated",
        ),
        (["train", "--data", str(truncated_features), "--output", str(tmp_path / "m.joblib")], "truncated"),
        (["outcomes", "--model", str(small_model), "--data", str(folder)], "folder"),
    ]
    for argv, expected in cases:
        assert expected in one_line_exit_2(["-q", *argv], capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [("MES", 13, "from 1 to 12"), ("MES", "julio", "must be an integer"), ("DIA", 32, "from 1 to 31")],
)
def test_impossible_values_exit_2_in_predict_train_and_outcomes(
    column, value, expected, tmp_path, small_model, scl_features, capsys
):
    table = scl_features.head(300).copy()
    table[column] = table[column].astype(object)
    table.loc[10, column] = value
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    before = small_model.read_bytes()
    for argv in (
        ["predict", "--model", str(small_model), "--input", str(path), "--output", str(tmp_path / "p.csv")],
        ["train", "--data", str(path), "--output", str(tmp_path / "m.joblib")],
        ["outcomes", "--model", str(small_model), "--data", str(path)],
    ):
        line = one_line_exit_2(["-q", *argv], capsys)
        assert (
            f"column {column!r}" in line
            and repr(str(value)) in line
            and "row 12" in line
            and expected in line
        )
    assert small_model.read_bytes() == before
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "m.joblib").exists()


def test_data_make_refuses_dates_that_would_make_absurd_labels(tmp_path, scl_raw_path, capsys):
    raw = pd.read_csv(scl_raw_path, nrows=50)
    out = tmp_path / "interim.parquet"
    for change in (
        {"Fecha-I": "1800-01-01 10:00:00", "Fecha-O": "9999-01-01 10:00:00"},
        {"Fecha-O": "2017-12-31 10:00:00"},  # months after its schedule: a wrong date
        {"MES": 13},
    ):
        broken = raw.copy()
        for column, value in change.items():
            broken[column] = broken[column].astype(object)
            broken.loc[4, column] = value
        path = tmp_path / "raw.csv"
        broken.to_csv(path, index=False)
        line = one_line_exit_2(
            ["-q", "data", "make", "--source", "scl", "--input", str(path), "--output", str(out)], capsys
        )
        assert "row 6" in line
    assert not out.exists()


def test_outcomes_records_an_all_on_time_day_and_never_moves_past_real_days(
    tmp_path, small_model, scl_features, capsys
):
    from latam_airlines.models import load_model

    model_path = tmp_path / "model.joblib"
    model_path.write_bytes(small_model.read_bytes())
    day = scl_features[(scl_features["MES"] == 12) & (scl_features["DIA"] == 30)].copy()
    day["atraso_15"] = 0
    on_time = tmp_path / "on_time.csv"
    day.to_csv(on_time, index=False)
    assert main(["-q", "outcomes", "--model", str(model_path), "--data", str(on_time)]) == 0, (
        capsys.readouterr().err
    )
    assert load_model(model_path).outcomes_until == "2017-12-31"  # not moved beyond the data
    before = model_path.read_bytes()
    future = day.assign(AÑO=2099).drop(columns="DIANOM")
    path = tmp_path / "future.csv"
    future.to_csv(path, index=False)
    assert "not happened yet" in one_line_exit_2(
        ["-q", "outcomes", "--model", str(model_path), "--data", str(path)], capsys
    )
    assert model_path.read_bytes() == before


_KILLED_WRITER = """
import os, signal, sys
from latam_airlines.io import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_text("half a new artifact")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "model.joblib"
    write_text("the previous artifact", target)
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_text() == "the previous artifact"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.joblib"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.joblib.")
    write_text("the next artifact", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"]
    assert target.read_text() == "the next artifact"


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "table.csv"
    with atomic_path(target) as ours:
        ours.write_text("in progress")
        write_text("another writer", target)  # same process: alive, so not stale
        assert ours.exists()
