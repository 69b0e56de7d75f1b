"""Score a file of flights (raw challenge format, processed table or API-style records)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.models.artifact import REQUIRED_FIELDS, DelayModel

# Input columns copied to the output beside the prediction, when present (they identify a flight).
ID_COLUMNS: tuple[str, ...] = (
    "Fecha-I",
    "Vlo-I",
    "Ori-I",
    "Des-I",
    "Des_I",
    "OPERA",
    "TIPOVUELO",
    "MES",
    "DIA",
    "HORA",
    "MIN",
)


def read_flights_to_score(path: str | Path) -> pd.DataFrame:
    """The flights file (CSV or Parquet) with the fields the model needs, every row checked by
    the rules the API applies (latam_airlines/validation.py); InputError names the first bad
    row, column and value. Times come back parsed (Santiago local time)."""
    from latam_airlines.io import read_table
    from latam_airlines.validation import validate_table

    flights = read_table(path)
    missing = [field for field in REQUIRED_FIELDS if field not in flights.columns]
    if missing:
        raise InputError("the flights file lacks a required column", file=str(path), column=missing[0])
    checked = validate_table(flights, str(path), required=REQUIRED_FIELDS)
    checked.attrs["source"] = str(path)
    return checked


def predict_flights(model: DelayModel, flights: pd.DataFrame) -> pd.DataFrame:
    """Identifying columns + `delay_probability` (calibrated), `threshold` (the row's: its
    regime's, which for the minimal regimes follows the level), `delayed` (`delay_probability >=
    threshold`), `regime` (fed, stale, stale_schedule, minimal or minimal_stale: see DelayModel.decide) and
    `unknown_fields` (categorical fields whose value the model never saw)."""
    probability, threshold, regime = model.decide_with_thresholds(flights)
    unknown: dict[int, list[str]] = {}
    for row, field, _ in model.unknown_values(flights):
        unknown.setdefault(row, []).append(field)
    output = flights[[c for c in ID_COLUMNS if c in flights.columns]].copy().reset_index(drop=True)
    output["delay_probability"] = probability.round(6)
    output["threshold"] = threshold.round(6)
    output["delayed"] = (probability >= threshold).astype(int)
    output["regime"] = regime
    output["unknown_fields"] = [",".join(unknown.get(row, [])) for row in range(len(output))]
    return output
