"""A processed table -> checked canonical inputs and 0/1 target, and its fingerprint.

The input checks every protocol shares (train, evaluate, compare, tune, outcomes, retrain).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.features import TARGET
from latam_airlines.features.canonical import canonical_flights
from latam_airlines.models.artifact import REQUIRED_FIELDS


def training_data(
    processed: pd.DataFrame, year: int | None = None, *, single_class: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Canonical inputs and 0/1 target of a processed table; InputError naming what is wrong.

    Every row is checked by the shared flight rules (latam_airlines/validation.py). A table
    whose target has one class is refused unless `single_class` (a day of outcomes may be all
    on time: something to record, nothing to fit)."""
    from latam_airlines.validation import validate_table

    file = processed.attrs.get("source")
    if TARGET not in processed.columns:
        raise InputError(f"the table has no target column {TARGET!r}", file=file, column=TARGET)
    missing = [column for column in REQUIRED_FIELDS if column not in processed.columns]
    if missing:
        raise InputError("the table lacks a required feature column", file=file, column=missing[0])
    target = pd.to_numeric(processed[TARGET], errors="coerce")
    bad = target.isna() | ~target.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"target must be 0/1; {int(bad.sum())} bad row(s), first at row {row}",
            file=file, column=TARGET, value=processed[TARGET].iloc[row],
        )  # fmt: skip
    y = target.to_numpy(dtype=int)
    if y.min() == y.max() and not single_class:
        raise InputError("the target has a single class; nothing to learn", file=file, column=TARGET)
    checked = validate_table(processed, file, required=REQUIRED_FIELDS)
    return canonical_flights(checked, year=year), y


def data_fingerprint(processed: pd.DataFrame) -> str:
    """sha256 of the table's content (order-sensitive), to recognise the training data."""
    hashed = pd.util.hash_pandas_object(processed.reset_index(drop=True), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()
