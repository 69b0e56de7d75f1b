"""The DAG tasks' library calls on an s3:// bucket (moto), without Airflow: how they find their
inputs and earlier outputs there (the DAGs end to end: test_orchestration_dags.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from latam_airlines.errors import InputError
from latam_airlines.io import join, write_bytes, write_text
from latam_airlines.orchestration import tasks


def test_the_newest_yearly_file_under_a_bucket_prefix_is_chosen(s3_bucket: str) -> None:
    yearly = join(s3_bucket, "yearly")
    for name in ("flights_2001.parquet", "flights_2017.csv.gz", "notes.txt"):
        write_bytes(b"not read here", join(yearly, name))
    assert tasks.newest_year(yearly) == 2017
    with pytest.raises(InputError, match="no such file or folder"):
        tasks.newest_year(join(s3_bucket, "absent"))


def test_the_days_departures_file_is_found_in_the_bucket(s3_bucket: str) -> None:
    departures = join(s3_bucket, "departures")
    write_bytes(b"Fecha-I\n", join(departures, "departures_2018-01-01.parquet"))
    found = tasks.departures_file(departures, dt.date(2018, 1, 1))
    assert found == f"{s3_bucket}/departures/departures_2018-01-01.parquet"
    with pytest.raises(InputError, match="no departures file for 2018-01-02 yet"):
        tasks.departures_file(departures, dt.date(2018, 1, 2))


def test_an_earlier_decision_is_read_back_from_the_bucket(s3_bucket: str) -> None:
    report = join(s3_bucket, "training", "retrain_decision.json")
    assert tasks._read_json(report) is None  # the first try
    write_text('{"promote": true, "holdout": {"data_fingerprint": "abc"}}', report)
    assert tasks._read_json(report) == {"promote": True, "holdout": {"data_fingerprint": "abc"}}
    write_text("{half a decisi", report)
    assert tasks._read_json(report) is None  # unreadable: decided again
