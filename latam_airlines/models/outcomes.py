"""Feed observed departures to a saved model so its recent delay rates stay current.

A deployed model's recent-rate features (features/outcome_history.py) are only as fresh as the last
outcomes it was given; `latam outcomes` adds a day's (or a month's) departures without
refitting. The file is a processed table (with `atraso_15`) or a raw-format file with the
operated time `Fecha-O`, from which the label is derived exactly as `latam features build` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.models.artifact import DelayModel


def read_outcomes(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """(canonical flights, 0/1 delayed) from a processed table or a raw file with `Fecha-O`."""
    from latam_airlines.data.load import check_raw_columns
    from latam_airlines.data.make_dataset import make_dataset
    from latam_airlines.features import TARGET, build_features
    from latam_airlines.io import read_table
    from latam_airlines.models.training_data import training_data

    table = read_table(path)
    if TARGET not in table.columns:
        if "Fecha-O" not in table.columns:
            raise InputError(
                f"outcomes need {TARGET!r} (processed table) or 'Fecha-O' (raw format)",
                file=str(path), column=TARGET,
            )  # fmt: skip
        check_raw_columns(table, file=str(path))
        table = build_features(make_dataset(table))  # validates every raw row
        table.attrs["source"] = str(path)
    # Validates every row and the target; a day on which every flight left on time is news too.
    flights, delayed = training_data(table, single_class=True)
    _check_not_in_future(flights, str(path))
    return flights, delayed


def _check_not_in_future(flights: pd.DataFrame, file: str) -> None:
    """Outcomes are departures that happened: a day after tomorrow (Santiago time) is a wrong
    date, and would move the model's history past the flights' real days."""
    import datetime as dt

    from latam_airlines.validation import SANTIAGO

    tomorrow = dt.datetime.now(SANTIAGO).date() + dt.timedelta(days=1)
    dates = pd.to_datetime(
        pd.DataFrame({"year": flights["AÑO"], "month": flights["MES"], "day": flights["DIA"]}).astype(float),
        errors="coerce",
    )
    late = (dates.dt.date > tomorrow).fillna(False).to_numpy()
    if late.any():
        row = int(np.flatnonzero(late)[0])
        raise InputError(
            f"departures dated after {tomorrow} have not happened yet (row {row + 1})",
            file=file, column="Fecha-I", value=str(dates.iloc[row].date()),
        )  # fmt: skip


def feed_outcomes(model: DelayModel, path: str | Path) -> int:
    """Record the file's outcomes in `model` (in memory); returns how many flights counted."""
    if not model.outcomes_until:
        raise InputError(
            "this model keeps no recent-delay history (trained with a feature set without "
            "recent rates); nothing to feed",
            value=model.metadata.get("config", {}).get("features"),
        )
    return model.record_outcomes(*read_outcomes(path))
