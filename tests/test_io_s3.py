"""latam_airlines.io against a real S3-compatible server (moto, started by conftest's
`s3_endpoint`): every table format round trip, folders, errors naming the URL, nothing
half-written, and the CLI reading and writing the bucket."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from latam_airlines import io
from latam_airlines.errors import InputError


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "airport": ["SCFA", "SCIE", "SPJC", "SCFA"],
            "flights": [3, 5, 8, 13],
            "delay": [1.5, -2.0, 30.25, 0.0],
            "day": pd.to_datetime(["2017-01-01", "2017-01-02", "2017-01-03", "2017-01-04"]),
        }
    )


def _s3(bucket: str):
    fs, _ = io.filesystem(bucket)
    return fs


@pytest.mark.parametrize("name", ["table.csv", "table.csv.gz", "table.parquet", "table"])
def test_each_table_format_round_trips_through_s3(s3_bucket, frame, name):
    url = f"{s3_bucket}/some/prefix/{name}"
    assert io.write_table(frame, url) == url
    back = io.read_table(url)
    if io.is_csv(url):
        back["day"] = pd.to_datetime(back["day"])
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs["source"] == url
    assert io.table_columns(url) == list(frame.columns)
    assert io.read_table(url, columns=["flights"])["flights"].tolist() == [3, 5, 8, 13]
    magic = {"table.csv": b"airp", "table.csv.gz": b"\x1f\x8b"}.get(name, b"PAR1")
    assert _s3(s3_bucket).cat_file(url).startswith(magic)  # the format the suffix names


def test_a_partitioned_parquet_folder_round_trips_and_replaces_the_old_one(s3_bucket, frame):
    url = f"{s3_bucket}/tables/flights"
    io.write_table(frame, url, partition_cols=["airport"])
    fs = _s3(s3_bucket)
    assert sorted(p.rsplit("/", 2)[-2] for p in fs.find(url)) == [
        "airport=SCFA",
        "airport=SCIE",
        "airport=SPJC",
    ]
    back = io.read_table(url).sort_values("flights").reset_index(drop=True)
    assert back["flights"].tolist() == [3, 5, 8, 13]
    assert sorted(back["airport"].astype(str)) == sorted(frame["airport"])
    assert io.table_columns(url)[:3] == ["flights", "delay", "day"]

    io.write_table(frame[frame["airport"] == "SCFA"], url, partition_cols=["airport"])
    assert [p.rsplit("/", 2)[-2] for p in fs.find(url)] == ["airport=SCFA"]  # old partitions gone
    assert io.read_table(url)["flights"].tolist() == [3, 13]
    assert fs.find(f"{s3_bucket}/tables/{io.BUILDS}") == []  # staging removed


def test_text_and_bytes_round_trip(s3_bucket):
    url = f"{s3_bucket}/notes/summary.json"
    io.write_text('{"a": 1}\n', url)
    assert io.read_bytes(url) == b'{"a": 1}\n'


def test_a_failed_write_leaves_the_previous_object_whole(s3_bucket, frame):
    url = f"{s3_bucket}/t.parquet"
    io.write_table(frame, url)
    before = _s3(s3_bucket).cat_file(url)
    broken = pd.DataFrame({"mixed": [1, "two", 3.0]})  # pyarrow refuses mixed object columns
    with pytest.raises(Exception, match="mixed|Conversion|convert"):
        io.write_table(broken, url)
    assert _s3(s3_bucket).cat_file(url) == before
    with pytest.raises(RuntimeError), io.atomic_path(url) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert _s3(s3_bucket).cat_file(url) == before


def test_a_failed_folder_write_leaves_the_live_folder_and_no_staging(s3_bucket):
    url = f"{s3_bucket}/reports/2017"
    with io.published_folder(url) as folder:
        (folder / "anomalies.csv").write_text("v1\n")
        (folder / "old.png").write_bytes(b"png")
    fs = _s3(s3_bucket)
    with pytest.raises(RuntimeError), io.published_folder(url) as folder:
        (folder / "anomalies.csv").write_text("v2\n")
        raise RuntimeError("failed half way")
    assert fs.cat_file(f"{url}/anomalies.csv") == b"v1\n"
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.find(url)) == ["anomalies.csv", "old.png"]
    assert fs.find(f"{s3_bucket}/reports/{io.BUILDS}") == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://", "no bucket in this URL"),
        ("s3:///key.csv", "no bucket in this URL"),
        ("s3://no-such-bucket-here/t.csv", "no such file"),
        ("{bucket}/missing/key.csv", "no such file"),
        ("ftp2://host/t.csv", "cannot open this location"),
    ],
)
def test_bad_urls_give_an_input_error_naming_the_url(s3_bucket, url, message):
    url = url.format(bucket=s3_bucket)
    with pytest.raises(InputError, match=message) as caught:
        io.read_table(url)
    assert str(caught.value).startswith(f"{url}: ")


def test_writing_to_a_missing_bucket_is_refused_before_work_and_at_write(s3_endpoint, frame):
    url = "s3://no-such-bucket-here/t.parquet"
    with pytest.raises(InputError, match="no such bucket") as caught:
        io.check_output(url)
    assert url in str(caught.value)
    with pytest.raises(InputError, match="cannot write") as caught:
        io.write_table(frame, url)
    assert url in str(caught.value)


def test_a_broken_object_names_its_url(s3_bucket):
    url = f"{s3_bucket}/broken.parquet"
    io.write_bytes(b"not parquet at all", url)
    with pytest.raises(InputError, match="not a readable Parquet file") as caught:
        io.read_table(url)
    assert url in str(caught.value)


def test_the_endpoint_comes_from_the_settings_when_the_environment_has_none(s3_endpoint, monkeypatch):
    from latam_airlines.io import location

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert "endpoint_url" not in location.s3_options()  # params.yaml: storage.endpoint_url: null
    monkeypatch.setenv("LATAM_STORAGE__ENDPOINT_URL", s3_endpoint)  # the storage setting
    assert location.s3_options()["endpoint_url"] == s3_endpoint


# ------------------------------------------------------------------------------------ CLI


def test_data_make_reads_and_writes_the_bucket(s3_bucket, scl_raw_path: Path, tmp_path: Path, capsys):
    from latam_airlines.cli import main

    raw_url = f"{s3_bucket}/raw/{scl_raw_path.name}"
    _s3(s3_bucket).put_file(str(scl_raw_path), raw_url)
    out = f"{s3_bucket}/interim/flights.parquet"
    assert main(["-q", "data", "make", "--input", raw_url, "--output", out]) == 0
    assert out in capsys.readouterr().out
    local = tmp_path / "flights.parquet"
    assert main(["-q", "data", "make", "--input", str(scl_raw_path), "--output", str(local)]) == 0
    assert _s3(s3_bucket).cat_file(out) == local.read_bytes()  # the same table, byte for byte
    assert len(io.read_table(out)) > 10_000

    missing = f"{s3_bucket}/raw/nope.csv"
    assert main(["-q", "data", "make", "--input", missing, "--output", out]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err
    assert (
        main(["-q", "data", "make", "--input", raw_url, "--output", "s3://no-such-bucket-here/x.parquet"])
        == 2
    )
    assert "s3://no-such-bucket-here/x.parquet: no such bucket" in capsys.readouterr().err


def test_anomalies_reads_the_newest_yearly_file_and_writes_the_report_to_the_bucket(
    s3_bucket, scl_raw_path: Path, monkeypatch
):
    from latam_airlines import cli

    for key, value in {"TREES_PER_DAY": 3, "NUM_TREES": 10, "MIN_FLIGHTS_PER_DAY": 2}.items():
        monkeypatch.setenv(f"LATAM_ANOMALIES__{key}", str(value))
    raw = pd.read_csv(scl_raw_path, dtype=str)
    subset = raw[raw["Des-I"].isin(["SCFA", "SCIE", "SCTE"])]
    fs = _s3(s3_bucket)
    fs.pipe(f"{s3_bucket}/yearly/flights_2016.csv", b"not,read\n1,2\n")  # older: must not be read
    io.write_table(subset, f"{s3_bucket}/yearly/flights_2017.csv.gz")
    out = f"{s3_bucket}/reports"
    args = ["-q", "anomalies", "--jobs", "1", "--input", f"{s3_bucket}/yearly/", "--output", out]
    assert cli.main(args) == 0
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.find(f"{out}/2017"))
    assert names == ["SCFA.png", "SCIE.png", "SCTE.png", "anomalies.csv", "index.md"]
    table = io.read_table(f"{out}/2017/anomalies.csv")
    assert set(table["airport"]) == {"SCFA", "SCIE", "SCTE"}
    assert table["flights"].sum() == len(subset)
    assert fs.find(f"{out}/{io.BUILDS}") == []
    assert fs.cat_file(f"{out}/2017/SCFA.png")[:4] == b"\x89PNG"


def test_features_train_predict_and_outcomes_read_and_write_the_bucket(
    s3_bucket,
    scl_interim: pd.DataFrame,
    small_features: pd.DataFrame,
    api_model_path: Path,
    tmp_path: Path,
    capsys,
):
    """Every table option of the model commands takes s3:// (typer's Path would mangle it to s3:/)."""
    from latam_airlines.cli import main

    io.write_table(scl_interim, f"{s3_bucket}/interim/flights.parquet")
    processed = f"{s3_bucket}/processed/features.csv"
    assert (
        main(["-q", "features", "build", "-i", f"{s3_bucket}/interim/flights.parquet", "-o", processed]) == 0
    )
    assert len(io.read_table(processed)) == len(scl_interim)

    io.write_table(small_features, f"{s3_bucket}/processed/small.csv")
    artifact = tmp_path / "reference.joblib"
    args = ["-q", "train", "--model", "reference", "--data", f"{s3_bucket}/processed/small.csv"]
    assert main([*args, "--output", str(artifact), "--metrics", str(tmp_path / "m.json")]) == 0
    assert artifact.exists()

    predictions = f"{s3_bucket}/out/predictions.csv"
    args = ["-q", "predict", "--model", str(api_model_path), "--input", processed, "--output", predictions]
    assert main(args) == 0
    assert len(io.read_table(predictions)) == len(scl_interim)

    fed = tmp_path / "fed.joblib"
    fed.write_bytes(api_model_path.read_bytes())
    assert main(["-q", "outcomes", "--model", str(fed), "--data", processed]) == 0
    assert "s3:/" not in capsys.readouterr().err
