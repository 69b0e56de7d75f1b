"""The saved model artifact: one joblib file with the fitted pipeline and what serving needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from latam_airlines.errors import InputError
from latam_airlines.io import atomic_path

# Fields every request must carry (the challenge API's minimal flight record).
REQUIRED_FIELDS: tuple[str, ...] = ("OPERA", "TIPOVUELO", "MES")
ARTIFACT_FORMAT = 1


def _numeric(values: Sequence[Any]) -> bool:
    return bool(values) and all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)


def _as_number(value: Any) -> float | str:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are values, not missing
        return False


class DelayModel:
    """A fitted delay classifier plus everything needed to serve it.

    `predict_proba` / `predict` accept a processed feature table or a list/frame of flight
    records carrying at least REQUIRED_FIELDS; optional fields absent from the input are
    filled with `defaults` (so the minimal record always works).
    """

    def __init__(
        self,
        pipeline: Any,
        features: Sequence[str],
        categorical: Sequence[str],
        known_values: Mapping[str, Sequence[Any]],
        defaults: Mapping[str, Any],
        threshold: float = 0.5,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.features = list(features)
        self.categorical = list(categorical)
        self.known_values = {field: list(values) for field, values in known_values.items()}
        self.defaults = dict(defaults)
        self.threshold = float(threshold)
        self.metrics = dict(metrics or {})
        self.metadata = dict(metadata or {})

    # ----------------------------------------------------------------- inputs
    @property
    def year(self) -> int | None:
        """Year assumed for records without one (DIANOM from MES/DIA), from training."""
        return self.metadata.get("year")

    def prepare(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """The pipeline's input frame: the `features` columns in canonical form.

        Raw/API spellings are mapped (`Des-I` -> Des_I; `Fecha-I` -> MES, DIA, HORA, MIN,
        DIANOM, temporada_alta, periodo_dia, as build_features derives them); an absent
        optional field stays NaN unless `defaults` names a value for it, and rows lacking
        the full model's fields are scored by the minimal model (see models/tiered.py).
        """
        from latam_airlines.features.engineered import canonical_from_columns, flight_columns

        columns, index = flight_columns(flights)
        missing = [field for field in REQUIRED_FIELDS if field not in columns]
        if missing:
            raise InputError(f"flights lack required field(s) {', '.join(missing)}", column=missing[0])
        canonical = canonical_from_columns(columns, index, year=self.year)
        for column in self.features:  # a feature outside the canonical fields: as given, else NaN
            if column not in canonical.columns:
                canonical[column] = columns.get(column, np.nan)
        prepared = canonical[self.features]
        if self.defaults:
            prepared = prepared.fillna({k: v for k, v in self.defaults.items() if k in prepared.columns})
        return prepared

    def _known_sets(self) -> dict[str, set]:
        # Numbers compare as numbers (7, 7.0 and "7" are the same month); labels as strings.
        cached = self.__dict__.get("_known_cache")
        if cached is None:
            cached = {
                field: {_as_number(v) for v in known} if _numeric(known) else set(map(str, known))
                for field, known in self.known_values.items()
            }
            self.__dict__["_known_cache"] = cached
        return cached

    def unknown_values(
        self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]
    ) -> list[tuple[int, str, Any]]:
        """(row position, field, value) for every categorical value the model never saw."""
        from latam_airlines.features.engineered import flight_columns

        columns, _ = flight_columns(flights)
        found = []
        for field, known_set in self._known_sets().items():
            if field not in columns:
                continue
            numeric = _numeric(self.known_values[field])
            for position, value in enumerate(columns[field].tolist()):
                if _is_missing(value):
                    continue
                if (_as_number(value) if numeric else str(value)) not in known_set:
                    found.append((position, field, value))
        return sorted(found, key=lambda item: (item[0], item[1]))

    # ----------------------------------------------------------------- predictions
    def predict_proba(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probability that each flight departs more than 15 minutes late (1-D array)."""
        return self.pipeline.predict_proba(self.prepare(flights))[:, 1]

    def predict(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[int]:
        """1 (delayed) / 0 per flight, at the stored decision threshold."""
        return (self.predict_proba(flights) >= self.threshold).astype(int).tolist()

    # ----------------------------------------------------------------- outcome feed
    def _outcome_steps(self) -> list[Any]:
        """The fitted feature steps that keep a recent-delay history (features/recent.py)."""
        from latam_airlines.models.candidates import outcome_history_step

        tiers = [getattr(self.pipeline, tier, None) for tier in ("full", "minimal")]
        return [step for step in map(outcome_history_step, tiers) if step is not None]

    @property
    def outcomes_until(self) -> str | None:
        """Last day of recorded outcomes (ISO date): recent delay rates are as of that day."""
        days = [step.outcomes_until_ for step in self._outcome_steps() if not np.isnan(step.outcomes_until_)]
        return str(np.datetime64(int(max(days)), "D")) if days else None

    def outcome_gap_days(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> int | None:
        """Days between the last recorded outcomes and the latest dated flight (1 = fresh: the
        flight is the day after); None without a history or dated flights."""
        steps = self._outcome_steps()
        if not steps:
            return None
        days = steps[0].flight_days(self.prepare(flights))
        if np.isnan(days).all():
            return None
        return int(np.nanmax(days) - max(step.outcomes_until_ for step in steps))

    def record_outcomes(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]], delayed: Any) -> int:
        """Feed observed outcomes (1 = left > 15 min late) so recent delay rates stay current
        without refitting; returns how many flights were recorded (known day and values).
        A day fed again replaces what was stored for it. Save the model to keep them."""
        delayed = np.asarray(delayed, dtype=float)
        prepared = self.prepare(flights)
        if len(delayed) != len(prepared) or np.isnan(delayed).any() or not np.isin(delayed, [0, 1]).all():
            raise InputError("outcomes must be one 0/1 value per flight", value=f"{len(delayed)} values")
        recorded = [step.record_outcomes(prepared, delayed) for step in self._outcome_steps()]
        return max(recorded, default=0)

    # ----------------------------------------------------------------- persistence
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_known_cache", None)  # derived from known_values; rebuilt on first use
        return state

    def save(self, path: str | Path) -> Path:
        """Write the artifact atomically (one joblib file)."""
        target = Path(path)
        with atomic_path(target) as temporary:
            joblib.dump({"format": ARTIFACT_FORMAT, "model": self}, temporary, compress=3)
        return target


def load_model(path: str | Path) -> DelayModel:
    """Load an artifact written by `DelayModel.save`; InputError if missing or not one."""
    path = Path(path)
    if not path.exists():
        raise InputError("no model artifact here (train one with `latam train`)", file=str(path))
    try:
        payload = joblib.load(path)
    except ModuleNotFoundError as error:  # e.g. a CatBoost artifact without the [catboost] extra
        raise InputError(
            f"the artifact needs the package {str(error.name).split('.')[0]!r}, not installed "
            f'(for catboost: pip install -e ".[catboost]")',
            file=str(path),
        ) from None
    except Exception as error:  # a truncated or foreign file raises many types
        raise InputError(
            f"not a readable model artifact ({type(error).__name__}: {error})", file=str(path)
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), DelayModel):
        raise InputError("not a latam_airlines model artifact", file=str(path))
    return payload["model"]
