"""The saved model artifact: `DelayModel` (a fitted classifier plus what serving needs), its
assembly after training (`build_artifact`: fields, known values, metadata) and the joblib file
(`save`, `load_model`, with a format check)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from latam_airlines.errors import InputError
from latam_airlines.io import atomic_path, exists, is_url, read_bytes
from latam_airlines.models.feed_tiers import TIERS

# Fields every request must carry (the challenge API's minimal flight record).
REQUIRED_FIELDS: tuple[str, ...] = ("OPERA", "TIPOVUELO", "MES")
# Written into every artifact and checked on load. 2: the features/ and models/ modules were
# split and renamed (format 1 pickles name modules that no longer exist).
ARTIFACT_FORMAT = 2
RETRAIN_HINT = "retrain with `latam train`"


def _numeric(values: Sequence[Any]) -> bool:
    return bool(values) and all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)


def _as_number(value: Any) -> float | str:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _folded(value: Any) -> str:
    """Spelling-insensitive form of a category value ("grupo latam " ~ "Grupo LATAM")."""
    return str(value).strip().casefold()


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are values, not missing
        return False


class DelayModel:
    """A fitted delay classifier plus everything needed to serve it.

    `predict_proba` / `predict` accept a processed feature table or a list/frame of flight
    records carrying at least REQUIRED_FIELDS; a record without the full tier's fields is
    scored by the minimal tier (models/feed_tiers.py), so the minimal record always works.
    """

    def __init__(
        self,
        pipeline: Any,
        features: Sequence[str],
        known_values: Mapping[str, Sequence[Any]],
        threshold: float = 0.5,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.features = list(features)
        self.known_values = {field: list(values) for field, values in known_values.items()}
        self.threshold = float(threshold)
        self.metrics = dict(metrics or {})
        self.metadata = dict(metadata or {})
        # The holdout as train scored it (labels, probabilities, importance): `evaluate` reads it.
        self.evidence: dict[str, Any] | None = None

    # ----------------------------------------------------------------- inputs
    @property
    def year(self) -> int | None:
        """Year assumed for records without one (DIANOM from MES/DIA), from training."""
        return self.metadata.get("year")

    def prepare(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """The pipeline's input frame: the `features` columns in canonical form.

        Raw/API spellings are mapped (`Des-I` -> Des_I; `Fecha-I` -> MES, DIA, HORA, MIN,
        DIANOM, temporada_alta, periodo_dia, as build_features derives them); an absent
        optional field stays NaN, and rows lacking the full model's fields are scored by the
        minimal model (see models/feed_tiers.py).
        """
        from latam_airlines.features.canonical import canonical_from_columns, flight_columns

        columns, index = flight_columns(flights)
        missing = [field for field in REQUIRED_FIELDS if field not in columns]
        if missing:
            raise InputError(f"flights lack required field(s) {', '.join(missing)}", column=missing[0])
        canonical = canonical_from_columns(columns, index, year=self.year)
        self._canonical_spellings(canonical)
        for column in self.features:  # a feature outside the canonical fields: as given, else NaN
            if column not in canonical.columns:
                canonical[column] = columns.get(column, np.nan)
        return canonical[self.features]

    def _spellings(self) -> dict[str, dict[str, str]]:
        """Per categorical field: folded spelling -> the training spelling."""
        cached = self.__dict__.get("_spelling_cache")
        if cached is None:
            cached = {
                field: {_folded(value): str(value) for value in known}
                for field, known in self.known_values.items()
                if not _numeric(known)
            }
            self.__dict__["_spelling_cache"] = cached
        return cached

    def _canonical_spellings(self, canonical: pd.DataFrame) -> None:
        """Known categories written in another case or with spaces around take the training
        spelling (in place), so `"grupo latam"` is scored as `"Grupo LATAM"`."""
        known_sets = self._known_sets()
        for field, spellings in self._spellings().items():
            if field not in canonical.columns:
                continue
            values = canonical[field].to_numpy()
            known = known_sets[field]
            if all(value is None or value in known for value in set(values.tolist())):
                continue  # the usual case: one set operation, no per-row work
            canonical[field] = np.asarray(
                [
                    value if value is None or value in known else spellings.get(_folded(value), value)
                    for value in values.tolist()
                ],
                dtype=object,
            )

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
        """(row position, field, value) for every categorical value the model never saw
        (case and surrounding spaces aside: "grupo latam" is the known "Grupo LATAM")."""
        from latam_airlines.features.canonical import flight_columns

        columns, _ = flight_columns(flights)
        found = []
        for field, known_set in self._known_sets().items():
            if field not in columns:
                continue
            numeric = _numeric(self.known_values[field])
            spellings = {} if numeric else self._spellings()[field]
            for position, value in enumerate(columns[field].tolist()):
                if _is_missing(value):
                    continue
                if numeric:
                    unknown = _as_number(value) not in known_set
                else:
                    unknown = str(value) not in known_set and _folded(value) not in spellings
                if unknown:
                    found.append((position, field, value))
        return sorted(found, key=lambda item: (item[0], item[1]))

    # ----------------------------------------------------------------- predictions
    def predict_proba(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Calibrated probability that each flight departs more than 15 minutes late (1-D)."""
        return self.pipeline.predict_proba(self.prepare(flights))[:, 1]

    def decide(
        self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probability, label, regime) per flight. regime: "fed" (full tier, recent delay
        rates current), "stale" (the outcome history ends more than `stale_after_days` before
        the flight: the tier without recent rates), "stale_schedule" (the same, for a flight
        whose day is in the planned schedule fed to the model: the stale tier plus planned-
        schedule counts; with `train.stale_schedule`), "minimal" (only OPERA, TIPOVUELO, MES) or
        "minimal_stale" (a minimal record beyond `stale_after_days`, or dated by its month at a
        day beyond it: the minimal tier with 28-day rates only). Each regime labels at its own
        F1-optimal threshold (`thresholds`; the minimal regimes' follows the level: see
        `threshold_rules`)."""
        probability, threshold, regime = self.decide_with_thresholds(flights)
        return probability, (probability >= threshold).astype(int), regime

    def decide_with_thresholds(
        self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probability, threshold, regime) per flight: the label is `probability >= threshold`."""
        prepared = self.prepare(flights)
        decide = getattr(self.pipeline, "decide", None)
        if decide is None:  # a plain estimator: one threshold
            probability = self.pipeline.predict_proba(prepared)[:, 1]
            return probability, np.full(len(prepared), self.threshold), np.full(len(prepared), "fed")
        probability, threshold, tier = decide(prepared)
        return probability, threshold, np.where(tier == "full", "fed", tier)

    def predict(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[int]:
        """1 (delayed) / 0 per flight, at the threshold of the regime that answered."""
        return self.decide(flights)[1].tolist()

    @property
    def thresholds(self) -> dict[str, float]:
        """Decision threshold per regime (fed, stale, stale_schedule, minimal, minimal_stale); a
        regime with a level rule (`threshold_rules`): its threshold now, for a record without a day."""
        current = getattr(self.pipeline, "current_thresholds", None)
        stored = dict((current() if current else None) or {"full": self.threshold})
        return {("fed" if tier == "full" else tier): float(value) for tier, value in stored.items()}

    @property
    def threshold_rules(self) -> dict[str, dict[str, Any]]:
        """Per regime whose threshold follows the level: the rule's numbers and the rule in words
        (models/threshold_rules.py); empty for artifacts with fixed thresholds only."""
        from latam_airlines.models.threshold_rules import describe_rule

        rules = getattr(self.pipeline, "threshold_rules", None) or {}
        return {tier: {**rule, "rule": describe_rule(rule)} for tier, rule in rules.items()}

    def feed_state(self) -> dict[str, Any]:
        """What the recent delay rates know: last fed day, when the model turns stale, and
        which regime answers a flight of the day after the last fed day."""
        after = getattr(self.pipeline, "stale_after_days", None)
        until = self.outcomes_until
        return {
            "outcomes_until": until,
            "stale_after_days": after,
            "stale_from": (
                str(np.datetime64(until) + np.timedelta64(int(after) + 1, "D"))
                if until is not None and after is not None
                else None
            ),
            "thresholds": self.thresholds,
            "threshold_rules": self.threshold_rules,
            "calibration": self.metadata.get("calibration", {}).get("method"),
            # same-day rates (features "intraday"): feed departures during the day
            "intraday": any(getattr(step, "intraday_", None) for step in self._outcome_steps()),
        }

    # ----------------------------------------------------------------- outcome feed
    def _outcome_steps(self) -> list[Any]:
        """The fitted feature steps that keep a recent-delay history (features/outcome_history.py)."""
        from latam_airlines.models.pipelines import outcome_history_step

        tiers = [getattr(self.pipeline, tier, None) for tier in ("full", "minimal", "minimal_stale")]
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
        Idempotent per flight (day, airline, type, destination, hour, minute): a flight fed
        again replaces its earlier outcome, new flights of a day add to it, so a day can come
        in several batches. Save the model to keep them."""
        delayed = np.asarray(delayed, dtype=float)
        prepared = self.prepare(flights)
        if len(delayed) != len(prepared) or np.isnan(delayed).any() or not np.isin(delayed, [0, 1]).all():
            raise InputError("outcomes must be one 0/1 value per flight", value=f"{len(delayed)} values")
        recorded = [step.record_outcomes(prepared, delayed) for step in self._outcome_steps()]
        return max(recorded, default=0)

    def record_schedule(self, flights: pd.DataFrame | Sequence[Mapping[str, Any]]) -> int:
        """Feed planned flights (`Fecha-I` or day, hour and minute; no outcome) so the planned-
        schedule counts of their days are known (features with "schedule": a day not fed reads
        as a typical day). A flight given again is counted once; returns how many were usable.
        Save the model to keep them."""
        from latam_airlines.models.pipelines import record_schedule

        prepared = self.prepare(flights)
        tiers = [getattr(self.pipeline, tier, None) for tier in TIERS]
        return max((record_schedule(tier, prepared) for tier in tiers if tier is not None), default=0)

    # ----------------------------------------------------------------- persistence
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_known_cache", None)  # derived from known_values; rebuilt on first use
        state.pop("_spelling_cache", None)
        return state

    def save(self, path: str | Path) -> str | Path:
        """Write the artifact atomically (one joblib file; a local path or an `s3://` URL)."""
        with atomic_path(path) as temporary:
            joblib.dump({"format": ARTIFACT_FORMAT, "model": self}, temporary, compress=3)
        return path if is_url(path) else Path(path)


def _regimes(classifier: Any, stale_features: str | None) -> dict[str, str]:
    """What each regime of a tiered classifier answers with (the artifact's metadata)."""
    days = classifier.stale_after_days
    return {
        "fed": "full tier: recent delay rates, its own threshold",
        "stale": f"history older than {days} days: {stale_features} features, their own threshold",
        "stale_schedule": f"history older than {days} days, the flight's day in the planned schedule "
        "fed to the model: static features plus its planned-schedule counts, their own threshold "
        "(an unfed day: the stale regime)",
        "minimal": "only OPERA, TIPOVUELO, MES given: 7- and 28-day recent rates, a threshold that "
        "follows SCL's 28-day delay rate",
        "minimal_stale": f"only OPERA, TIPOVUELO, MES, history older than {days} days (a record "
        "without a day: its month's next occurrence): 28-day rates only, its own threshold (following "
        "the level)",
    }


def build_artifact(
    classifier: Any,
    inputs: pd.DataFrame,
    processed: pd.DataFrame,
    features: Sequence[str],
    config: Mapping[str, Any],
    stale_features: str | None,
    metrics: dict,
) -> DelayModel:
    """The DelayModel of a trained (tiered) classifier: `features` are the canonical fields its
    tiers read, `inputs` the canonical training rows (their values become `known_values`),
    `processed` the training table (fingerprint, rows, year), `config` the TrainConfig as a
    dict and `stale_features` the stale tier's feature set (None without one)."""
    import xgboost

    from latam_airlines.features.canonical import CATEGORICAL_FIELDS, NUMERIC_FIELDS
    from latam_airlines.models.threshold_rules import describe_rule
    from latam_airlines.models.training_data import data_fingerprint

    # Serving predicts small batches; one thread per call beats spreading them over cores.
    classifier.set_params(
        **{name: 1 for name in classifier.get_params(deep=True) if name.endswith("__n_jobs")}
    )
    fingerprint = data_fingerprint(processed)
    known = {}
    for column in features:
        values = inputs[column].dropna().unique()
        known[column] = (
            sorted(int(v) for v in values) if column in NUMERIC_FIELDS else sorted(map(str, values))
        )
    year = config["year"]
    if year is None and "AÑO" in processed.columns:
        year = int(pd.to_numeric(processed["AÑO"], errors="coerce").mode().iloc[0])
    return DelayModel(
        pipeline=classifier,
        features=list(features),
        known_values={c: v for c, v in known.items() if c in CATEGORICAL_FIELDS or c == "MES"},
        threshold=classifier.thresholds.get("full", classifier.thresholds.get("minimal", 0.5)),
        metrics=metrics,
        metadata={
            "model": config["model"],
            "version": f"{config['model']}-{config['features']}-{fingerprint[:8]}",
            "data_fingerprint": fingerprint,
            "rows": int(len(processed)),
            "year": year or 2017,
            "config": dict(config),
            "thresholds": dict(classifier.thresholds),
            "threshold_rules": {
                tier: describe_rule(rule)
                for tier, rule in (getattr(classifier, "threshold_rules", None) or {}).items()
            },
            "calibration": {
                "method": config["calibration"],
                "fitted_on": "out-of-fold probabilities of the training part",
                "knots": {tier: len(knots[0]) for tier, knots in (classifier.calibration or {}).items()},
            },
            "feed": {
                "stale_after_days": classifier.stale_after_days,
                "regimes": {
                    name: text
                    for name, text in _regimes(classifier, stale_features).items()
                    if name in ("fed", "minimal") or getattr(classifier, name, None) is not None
                }
                if classifier.stale_after_days is not None
                else {},
            },
            "library_versions": {
                "sklearn": sklearn.__version__,
                "xgboost": xgboost.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
            },
        },
    )


def load_model(path: str | Path) -> DelayModel:
    """Load an artifact written by `DelayModel.save`; InputError if missing, not one, or of
    another ARTIFACT_FORMAT (naming both formats: retrain). `path` may be an `s3://` URL."""
    path = str(path) if is_url(path) else Path(path)
    if not exists(path):
        raise InputError("no model artifact here (train one with `latam train`)", file=str(path))
    try:
        payload = joblib.load(io.BytesIO(read_bytes(path)) if is_url(path) else path)
    except (ModuleNotFoundError, AttributeError) as error:
        missing = str(getattr(error, "name", "") or "")
        if isinstance(error, AttributeError) or missing.startswith("latam_airlines"):
            # A format-1 artifact names modules or classes of the old layout (e.g.
            # latam_airlines.features.engineered): its format cannot be read before them.
            raise InputError(
                f"the artifact was written by an older latam_airlines (artifact format 1, "
                f"{type(error).__name__}: {error}); this version reads format {ARTIFACT_FORMAT}: {RETRAIN_HINT}",
                file=str(path),
            ) from None
        # e.g. a CatBoost artifact without the [catboost] extra
        raise InputError(
            f"the artifact needs the package {missing.split('.')[0]!r}, not installed "
            f'(for catboost: pip install -e ".[catboost]")',
            file=str(path),
        ) from None
    except Exception as error:  # a truncated or foreign file raises many types
        raise InputError(
            f"not a readable model artifact ({type(error).__name__}: {error})", file=str(path)
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), DelayModel):
        raise InputError("not a latam_airlines model artifact", file=str(path))
    if payload.get("format") != ARTIFACT_FORMAT:
        raise InputError(
            f"artifact format {payload.get('format')!r}, this version reads format {ARTIFACT_FORMAT}: "
            f"{RETRAIN_HINT}",
            file=str(path),
        )
    return payload["model"]
