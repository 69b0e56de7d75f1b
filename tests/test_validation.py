"""The one validation of a flight (latam_airlines/validation.py), from its contract: times are
Santiago local time or carry an offset, real calendar days within the year horizon, fields that
agree with each other, bounded text; the API's scalar checks and the files' vectorised checks
give the same verdict."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from latam_airlines.api.validation import FlightValidator, RequestInvalid
from latam_airlines.errors import InputError
from latam_airlines.validation import (
    MAX_TEXT_LENGTH,
    YEAR_MAX,
    YEAR_MIN,
    parse_datetime,
    parse_datetimes,
    shown,
    validate_table,
)

# (text, Santiago local time it means, or None when it must be refused)
TIMES = [
    ("2017-03-05 14:05:00", dt.datetime(2017, 3, 5, 14, 5)),
    ("2017-03-05T14:05", dt.datetime(2017, 3, 5, 14, 5)),
    ("2017-03-05 14:05:59.999999", dt.datetime(2017, 3, 5, 14, 5, 59)),  # fraction dropped
    ("2017-01-15T10:00:00-03:00", dt.datetime(2017, 1, 15, 10, 0)),  # Santiago's summer offset
    ("2017-07-15T10:00:00-04:00", dt.datetime(2017, 7, 15, 10, 0)),  # and its winter one
    ("2017-07-15T14:00:00Z", dt.datetime(2017, 7, 15, 10, 0)),
    ("2017-07-15T14:00:00+0000", dt.datetime(2017, 7, 15, 10, 0)),
    ("2017-01-01T01:00:00+00:00", dt.datetime(2016, 12, 31, 22, 0)),  # offset crosses a year
    (f"{YEAR_MIN}-06-01 00:00:00", dt.datetime(YEAR_MIN, 6, 1)),
    (f"{YEAR_MAX}-06-01 00:00:00", dt.datetime(YEAR_MAX, 6, 1)),
    (f"{YEAR_MIN - 1}-06-01 00:00:00", None),
    (f"{YEAR_MAX + 1}-06-01 00:00:00", None),
    ("0001-01-01 00:00:00", None),
    ("9999-12-31 23:59:59", None),
    ("2017-02-29 10:00:00", None),  # not a leap year
    ("2016-02-29 10:00:00", dt.datetime(2016, 2, 29, 10)),
    ("2017-04-31 10:00:00", None),
    ("2017-13-01 10:00:00", None),
    ("2017-01-01 24:00:00", None),
    ("2017-01-01 10:60:00", None),
    ("2017-W01-1 10:00:00", None),  # ISO week date
    ("2017-001 10:00:00", None),  # ordinal date
    ("2017-01-01", None),  # a departure needs a time
    ("01/02/2017 10:00", None),
    ("2017-01-01 10:00:00+25:00", None),
    ("", None),
    ("x" * 10_000, None),
]


@pytest.mark.parametrize(("text", "expected"), TIMES, ids=[t[0][:30] for t in TIMES])
def test_times_scalar_and_vectorised_agree_with_the_policy(text: str, expected: dt.datetime | None) -> None:
    assert parse_datetime(text) == expected
    parsed, bad = parse_datetimes(pd.Series([text], dtype=object))
    if expected is None:
        assert bad.tolist() == [True]
    else:
        assert bad.tolist() == [False] and parsed.iloc[0].to_pydatetime() == expected


def test_missing_times_are_not_bad_and_datetime_columns_are_range_checked() -> None:
    parsed, bad = parse_datetimes(pd.Series([None, "2017-01-01 10:00:00"], dtype=object))
    assert bad.tolist() == [False, False] and pd.isna(parsed.iloc[0])
    aware = pd.Series(pd.to_datetime(["2017-07-15T14:00:00Z"], utc=True))
    parsed, bad = parse_datetimes(aware)
    assert parsed.iloc[0] == pd.Timestamp("2017-07-15 10:00:00") and not bad.any()


def test_shown_values_are_bounded() -> None:
    assert shown(13) == 13 and shown("SCEL") == "SCEL"
    long = shown("y" * 1_000_000)
    assert isinstance(long, str) and len(long) < 120 and "1000000 characters" in long
    assert shown(list(range(100_000))).startswith("<list of 100000")


# Records every entry point must refuse, and the field to blame. Shared by the API and file checks.
BASE = {"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 4}
BAD_RECORDS = [
    ({"MES": 13}, "MES"),
    ({"MES": 0}, "MES"),
    ({"DIA": 31}, "DIA"),  # April has 30 days
    ({"MES": 2, "DIA": 29, "AÑO": 2017}, "DIA"),
    ({"AÑO": 1800}, "AÑO"),
    ({"AÑO": 9999}, "AÑO"),
    ({"HORA": 24}, "HORA"),
    ({"Fecha-I": "2017-05-01 10:00:00"}, "MES"),  # MES 4 against a May date
    ({"Fecha-I": "2017-04-02 10:00:00", "DIA": 3}, "DIA"),
    ({"Fecha-I": "2017-04-02 10:00:00", "HORA": 11}, "HORA"),
    ({"Fecha-I": "2017-04-02 10:00:00", "DIANOM": "Lunes"}, "DIANOM"),  # a Sunday
    ({"MES": 4, "DIA": 2, "AÑO": 2017, "DIANOM": "Lunes"}, "DIANOM"),
    ({"MESNOM": "May"}, "MESNOM"),
    ({"Fecha-I": "2017-02-31 10:00:00"}, "Fecha-I"),
    ({"Fecha-I": "1800-04-01 10:00:00"}, "Fecha-I"),
    ({"Fecha-I": "2017-W14-1 10:00"}, "Fecha-I"),
    ({"TIPOVUELO": "X"}, "TIPOVUELO"),
    ({"Emp-I": "E" * (MAX_TEXT_LENGTH + 1)}, "Emp-I"),
    ({"Ori-I": "O" * 100_000}, "Ori-I"),
]
GOOD_RECORDS = [
    {},
    {"Fecha-I": "2017-04-02T10:00:00-03:00", "DIA": 2, "HORA": 10, "DIANOM": "Domingo", "MESNOM": "Abr"},
    {"DIA": 30, "AÑO": 2017, "MES": 4},
    {"MES": 2, "DIA": 29},  # no year: February may have 29 days
    {"TIPOVUELO": "i", "DIANOM": "domingo", "Fecha-I": "2017-04-02 10:00:00"},  # spelling is free
    {"Emp-I": "E" * MAX_TEXT_LENGTH},
]


@pytest.mark.parametrize(("change", "field"), BAD_RECORDS, ids=[str(c)[:40] for c, _ in BAD_RECORDS])
def test_a_bad_record_is_refused_the_same_by_the_api_and_by_files(change: dict, field: str) -> None:
    record = dict(BASE, **change)
    validator = FlightValidator({}, max_batch=10)
    with pytest.raises(RequestInvalid) as refused:
        validator.flights({"flights": [dict(BASE), record]})
    problems = refused.value.problems
    assert [(p["index"], p["field"]) for p in problems] == [(1, field)]
    assert len(str(problems[0]["value"])) <= 120  # never echoed whole
    frame = pd.DataFrame([dict(BASE), record])
    with pytest.raises(InputError) as file_refused:
        validate_table(frame, "flights.csv", required=("OPERA", "TIPOVUELO", "MES"))
    message = str(file_refused.value)
    assert f"column {field!r}" in message and "row 3" in message  # line 3 of the file
    assert len(message) < 400


@pytest.mark.parametrize("change", GOOD_RECORDS, ids=[str(c)[:40] for c in GOOD_RECORDS])
def test_a_good_record_passes_both(change: dict) -> None:
    record = dict(BASE, **change)
    (passed,) = FlightValidator({}, max_batch=10).flights({"flights": [record]})
    assert passed["TIPOVUELO"] == "I"
    checked = validate_table(pd.DataFrame([record]), "flights.csv")
    assert checked["TIPOVUELO"].tolist() == ["I"]
    if "Fecha-I" in record:
        assert passed["Fecha-I"] == "2017-04-02 10:00:00"
        assert checked["Fecha-I"].iloc[0] == pd.Timestamp("2017-04-02 10:00:00")


def test_the_api_passes_on_only_model_fields_in_the_model_spelling() -> None:
    validator = FlightValidator(
        {"OPERA": ["Grupo LATAM"], "Des_I": ["SCFA"]},
        max_batch=10,
        model_fields=["OPERA", "TIPOVUELO", "MES", "Des_I"],
    )
    (record,) = validator.flights(
        {
            "flights": [
                {
                    "OPERA": " grupo latam ",
                    "TIPOVUELO": "n",
                    "MES": 3,
                    "Des-I": "scfa",
                    "Emp-I": "anything",
                    "DIA": None,
                }
            ]
        }
    )
    assert record == {"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 3, "Des_I": "SCFA"}


def test_shipped_tables_pass_unchanged(scl_raw_path, scl_features_path) -> None:
    for path in (scl_raw_path, scl_features_path):
        frame = pd.read_csv(path)
        checked = validate_table(frame, str(path))
        assert len(checked) == len(frame)
