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


# ------------------------------------------------------------- the history as bytes
# Shared serving state (api/shared_state.py) moves a model's recent-delay history between
# processes as plain arrays (npz, no pickle: what a shared store holds is never executed).
def export_history(model: DelayModel) -> bytes:
    """The model's recent-delay history (every outcome step's counts, ledger and last day)."""
    import io

    from latam_airlines.features.outcome_history import FlightLedger

    arrays: dict[str, np.ndarray] = {}
    for index, step in enumerate(model._outcome_steps()):
        arrays[f"{index}.until"] = np.array([step.outcomes_until_], dtype=float)
        ledger = getattr(step, "ledger_", None) or FlightLedger()  # artifacts from before the ledger
        arrays[f"{index}.ledger.ids"] = ledger.ids
        arrays[f"{index}.ledger.delayed"] = ledger.delayed
        for kind in ("outcomes_", "intraday_"):
            histories = getattr(step, kind, None) or {}
            arrays[f"{index}.{kind}keys"] = np.array(["+".join(key) for key in histories], dtype=str)
            for number, history in enumerate(histories.values()):
                for name in ("composite", "delayed", "flights"):
                    arrays[f"{index}.{kind}{number}.{name}"] = getattr(history, name)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def import_history(model: DelayModel, blob: bytes) -> DelayModel:
    """A copy of `model` holding the exported history `blob` (the model itself is untouched:
    requests in flight keep reading it). InputError when the history belongs to another model."""
    import copy
    import io

    from latam_airlines.features.outcome_history import FlightLedger

    try:
        arrays = dict(np.load(io.BytesIO(blob), allow_pickle=False))
    except Exception as error:  # a foreign or truncated blob raises many types
        raise InputError(f"not an exported outcome history ({type(error).__name__}: {error})") from None
    updated = copy.deepcopy(model)
    steps = updated._outcome_steps()
    for index, step in enumerate(steps):
        for kind in ("outcomes_", "intraday_"):
            histories = getattr(step, kind, None) or {}
            stored = [str(key) for key in arrays.get(f"{index}.{kind}keys", [])]
            if stored != ["+".join(key) for key in histories]:
                raise InputError(
                    "the outcome history was exported from a model with other recent-rate keys",
                    value=f"{stored} vs {list(histories)}",
                )  # fmt: skip
            for number, history in enumerate(histories.values()):
                for name in ("composite", "delayed", "flights"):
                    setattr(history, name, arrays[f"{index}.{kind}{number}.{name}"])
                history._sums()
        step.ledger_ = FlightLedger()
        step.ledger_.ids = arrays[f"{index}.ledger.ids"]
        step.ledger_.delayed = arrays[f"{index}.ledger.delayed"]
        step.outcomes_until_ = float(arrays[f"{index}.until"][0])
    if f"{len(steps)}.until" in arrays:
        raise InputError("the outcome history was exported from a model with more outcome steps")
    return updated
