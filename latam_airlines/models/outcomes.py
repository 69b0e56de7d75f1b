"""Feed observed departures to a saved model so its recent delay rates stay current.

A deployed model's recent-rate features (features/recent.py) are only as fresh as the last
outcomes it was given; `latam outcomes` adds a day's (or a month's) departures without
refitting. The file is a processed table (with `atraso_15`) or a raw-format file with the
operated time `Fecha-O`, from which the label is derived exactly as `latam features build` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.models.delay_model import DelayModel


def read_outcomes(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """(canonical flights, 0/1 delayed) from a processed table or a raw file with `Fecha-O`."""
    from latam_airlines.data.load import check_raw_columns
    from latam_airlines.data.make_dataset import make_dataset
    from latam_airlines.features import TARGET, build_features
    from latam_airlines.models.train_model import training_data
    from latam_airlines.tables import read_table

    table = read_table(path)
    if TARGET not in table.columns:
        if "Fecha-O" not in table.columns:
            raise InputError(
                f"outcomes need {TARGET!r} (processed table) or 'Fecha-O' (raw format)",
                file=str(path), column=TARGET,
            )  # fmt: skip
        check_raw_columns(table, file=str(path))
        table = build_features(make_dataset(table))
        table.attrs["source"] = str(path)
    return training_data(table)  # validates the target column


def feed_outcomes(model: DelayModel, path: str | Path) -> int:
    """Record the file's outcomes in `model` (in memory); returns how many flights counted."""
    if not model.outcomes_until:
        raise InputError(
            "this model keeps no recent-delay history (trained with a feature set without "
            "recent rates); nothing to feed",
            value=model.metadata.get("config", {}).get("features"),
        )
    return model.record_outcomes(*read_outcomes(path))
