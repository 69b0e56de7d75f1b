"""latam_airlines.io tables on local disk: every format round trips, compressed CSV is
reproducible, partitioned folders are published whole, folders and broken files are refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from latam_airlines import io
from latam_airlines.errors import InputError

FRAME = pd.DataFrame({"airport": ["SCFA", "SCIE", "SCFA"], "flights": [3, 5, 8]})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.csv.bz2", "t.parquet", "t"])
def test_each_format_round_trips_and_is_what_its_suffix_says(tmp_path: Path, name: str):
    path = tmp_path / name
    io.write_table(FRAME, path)
    pd.testing.assert_frame_equal(io.read_table(path), FRAME)
    if name.endswith((".gz", ".bz2")):  # pandas reads it by its suffix too
        pd.testing.assert_frame_equal(pd.read_csv(path), FRAME)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left


def test_compressed_csv_is_the_same_bytes_every_time(tmp_path: Path):
    first, second = io.write_table(FRAME, tmp_path / "a.csv.gz"), io.write_table(FRAME, tmp_path / "b.csv.gz")
    assert first.read_bytes() == second.read_bytes()


def test_a_partitioned_folder_is_published_whole_and_read_back(tmp_path: Path):
    target = tmp_path / "flights"
    io.write_table(FRAME, target, partition_cols=["airport"])
    assert target.is_symlink()
    back = io.read_table(target).sort_values("flights", ignore_index=True)
    assert back["flights"].tolist() == [3, 5, 8] and io.table_columns(target) == ["flights", "airport"]
    with pytest.raises(RuntimeError), io.published_folder(target) as folder:
        (folder / "junk.parquet").write_bytes(b"half")
        raise RuntimeError("killed")
    assert io.read_table(target)["flights"].sum() == 16  # the live version is untouched


def test_folders_and_broken_files_are_input_errors_naming_them(tmp_path: Path):
    (tmp_path / "input.csv").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    (tmp_path / "broken.parquet").write_bytes(b"nope")
    for name, message in [
        ("input.csv", "this is a folder; give a file"),
        ("notes", "not a partitioned Parquet table"),
        ("broken.parquet", "not a readable Parquet file"),
        ("missing.csv", "no such file"),
    ]:
        with pytest.raises(InputError, match=message) as caught:
            io.read_table(tmp_path / name)
        assert str(caught.value).startswith(str(tmp_path / name))
