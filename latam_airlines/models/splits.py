"""Train/test splits: temporal holdout (what a deployed model faces) or stratified random."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from latam_airlines.errors import InputError

SPLITS: tuple[str, ...] = ("temporal", "random")


def holdout_split(
    processed: pd.DataFrame,
    split: str = "temporal",
    test_months: Sequence[int] = (11, 12),
    test_size: float = 0.33,
    seed: int = 42,
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, test). temporal: test = `test_months` of the last year in the
    table (earlier years and months train); random: stratified `test_size` share."""
    from latam_airlines.features import TARGET

    positions = np.arange(len(processed))
    if split == "random":
        train, test = train_test_split(
            positions, test_size=test_size, random_state=seed, stratify=processed[TARGET].to_numpy()
        )
        return np.sort(train), np.sort(test)
    if split != "temporal":
        raise InputError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}", value=split)
    month = pd.to_numeric(processed["MES"], errors="coerce").to_numpy()
    if "AÑO" in processed.columns:
        year = pd.to_numeric(processed["AÑO"], errors="coerce").to_numpy()
        last = np.nanmax(year)
        is_test = (year == last) & np.isin(month, list(test_months))
    else:
        is_test = np.isin(month, list(test_months))
    if is_test.all() or not is_test.any():
        raise InputError(
            f"temporal split needs rows both in and outside months {list(test_months)}", column="MES"
        )
    return positions[~is_test], positions[is_test]


def validation_split(y: np.ndarray, share: float = 0.2, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) positions inside a training part, stratified: the threshold is chosen
    on the validation rows, never on the test rows."""
    positions = np.arange(len(y))
    fit, validation = train_test_split(positions, test_size=share, random_state=seed, stratify=y)
    return np.sort(fit), np.sort(validation)
