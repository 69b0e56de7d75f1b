"""Outputs are all-or-nothing: a failure mid-write leaves no file behind."""

from __future__ import annotations

import pandas as pd
import pytest

from latam_airlines.io import atomic_path, write_table


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "table.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_version(tmp_path):
    target = tmp_path / "table.csv"
    write_table(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("a\n2\n")
        raise RuntimeError("interrupted")
    assert pd.read_csv(target)["a"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
