"""Fit a DelayModel on a processed feature table, with an honest holdout evaluation.

Protocol of `train` (every number it reports comes from rows the model did not fit):
1. split the table: temporal (train Jan–Oct, test Nov–Dec) or stratified random;
2. inside the training part, the decision threshold (max F1 of the delayed class) is picked on
   out-of-fold probabilities: `threshold_folds` (5) stratified folds, each scored by a model
   fitted on the others, so every training row votes (with `threshold_folds` 1: one stratified
   `validation_share`); the model is then refitted on the whole training part with it;
3. the test part is scored once -> `metrics["holdout"]`. With `outcome_feed` (default) the
   test part's outcomes reach the recent-delay history as a deployed model gets them, a day
   after: a flight's recent rates count days strictly before its own, never its own day
   (`metrics["holdout_without_feed"]` scores the same rows with the history frozen at the
   end of the training part);
4. with `refit_full` (default) the artifact is refitted on every row, keeping that threshold.
Both tiers (full and minimal, see tiered.py) follow the same protocol.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import StratifiedKFold

from latam_airlines.errors import InputError
from latam_airlines.features import TARGET
from latam_airlines.features.engineered import (
    CATEGORICAL_FIELDS,
    INPUT_FIELDS,
    NUMERIC_FIELDS,
    canonical_flights,
    fields_of,
)
from latam_airlines.models.candidates import check_model, make_pipeline, outcome_history_step
from latam_airlines.models.delay_model import REQUIRED_FIELDS, DelayModel
from latam_airlines.models.metrics import best_f1_threshold, classification_metrics
from latam_airlines.models.splits import holdout_split, validation_split
from latam_airlines.models.tiered import TieredClassifier

FEATURE_CHOICES: tuple[str, ...] = (
    "full",
    "static",
    "congestion",
    "history",
    "base",
    "full_with_month",
    "catboost",
)


@dataclass
class TrainConfig:
    """Everything that defines a trained model; stored in the artifact's metadata."""

    model: str = "xgb"
    features: str = "full"
    balance: str = "weight"
    params: dict[str, Any] = field(default_factory=dict)
    split: str = "temporal"
    test_months: list[int] = field(default_factory=lambda: [11, 12])
    test_size: float = 0.33
    validation_share: float = 0.2
    threshold_folds: int = 5
    seed: int = 42
    year: int | None = None
    refit_full: bool = True
    outcome_feed: bool = True


@dataclass
class Holdout:
    """A model fitted on the training part, and its test-part predictions."""

    model: DelayModel
    test_inputs: pd.DataFrame
    y_test: np.ndarray
    probability: np.ndarray
    minimal_probability: np.ndarray | None
    frozen_probability: np.ndarray | None = None  # history frozen at the training part's end


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


def _tiers(config: TrainConfig) -> dict[str, str]:
    """tier -> feature set. The reference model reads only the minimal fields: one tier."""
    if config.model == "reference":
        return {"minimal": "reference"}
    return {"full": config.features, "minimal": "minimal"}


def _tier_params(config: TrainConfig, feature_set: str) -> dict[str, Any]:
    """The minimal tier sees at most a few hundred distinct (OPERA, TIPOVUELO, MES) records:
    150 trees are plenty there, and keep training on large tables fast."""
    if feature_set == "minimal" and config.model in ("xgb", "lgbm", "rf"):
        return {**config.params, "n_estimators": 150}
    return config.params


def fit_with_threshold(
    inputs: pd.DataFrame, y: np.ndarray, config: TrainConfig, feature_set: str
) -> tuple[Any, float]:
    """Threshold picked on validation rows scored by pipelines fitted without them; then the
    pipeline is refitted on every given row (the validation rows are too valuable to drop).

    Why out-of-fold by default: one 20 % share leaves the F1-optimal cut-off noisy (it moved
    F1 by up to 0.005 between near-identical models); pooling every row's out-of-fold
    probability steadies it (+0.002 F1 on the Jul-Aug and Sep-Oct backtests, logreg).
    """
    params = _tier_params(config, feature_set)
    if config.threshold_folds > 1:
        folds = StratifiedKFold(config.threshold_folds, shuffle=True, random_state=config.seed)
        splits = list(folds.split(inputs, y))
    else:
        splits = [validation_split(y, config.validation_share, config.seed)]
    probabilities = []
    for fit_rows, validation_rows in splits:
        pipeline = make_pipeline(
            config.model, y[fit_rows], feature_set, config.balance, params, config.seed, config.year
        )
        pipeline.fit(inputs.iloc[fit_rows], y[fit_rows])
        history = outcome_history_step(pipeline)
        if history is not None:  # as deployed: recent rates count every earlier day's departures
            history.record_outcomes(inputs, y)
        probabilities.append(pipeline.predict_proba(inputs.iloc[validation_rows])[:, 1])
    scored = np.concatenate([validation for _, validation in splits])
    threshold = best_f1_threshold(y[scored], np.concatenate(probabilities))
    pipeline = make_pipeline(config.model, y, feature_set, config.balance, params, config.seed, config.year)
    return pipeline.fit(inputs, y), threshold


def _assemble(
    pipelines: dict[str, Any], thresholds: dict[str, float], config: TrainConfig
) -> TieredClassifier:
    full_fields = fields_of(config.features) if "full" in pipelines else []
    return TieredClassifier(
        full=pipelines.get("full"),
        minimal=pipelines.get("minimal"),
        full_fields=full_fields,
        full_threshold=thresholds.get("full", thresholds["minimal"]),
        minimal_threshold=thresholds["minimal"],
    )


def _check_config(config: TrainConfig) -> None:
    check_model(config.model)
    if config.features not in FEATURE_CHOICES:
        raise InputError(
            f"unknown feature set {config.features!r}; expected one of {', '.join(FEATURE_CHOICES)}",
            value=config.features,
        )


def holdout_evaluation(processed: pd.DataFrame, config: TrainConfig) -> Holdout:
    """Steps 1–3 of the protocol: fit on the training part, score the test part."""
    _check_config(config)
    inputs, y = training_data(processed, config.year)
    train_rows, test_rows = holdout_split(
        processed, config.split, config.test_months, config.test_size, config.seed
    )
    pipelines, thresholds = {}, {}
    for tier, feature_set in _tiers(config).items():
        pipelines[tier], thresholds[tier] = fit_with_threshold(
            inputs.iloc[train_rows], y[train_rows], config, feature_set
        )
    classifier = _assemble(pipelines, thresholds, config)
    model = _delay_model(classifier, inputs, config, processed, metrics={})
    test_inputs = inputs.iloc[test_rows]
    probability = frozen = classifier.predict_proba(test_inputs)[:, 1]
    # Every day's departures, the test part's included: days are stored whole (a random split's
    # test rows share days with training rows), and a flight only sees days before its own.
    history = outcome_history_step(classifier.full) if config.outcome_feed else None
    if history is not None:
        history.record_outcomes(inputs, y)
        probability = classifier.predict_proba(test_inputs)[:, 1]
    minimal_probability = None
    if "full" in pipelines:  # the minimal tier scored on the same rows (its own threshold)
        minimal_probability = pipelines["minimal"].predict_proba(test_inputs)[:, 1]
    holdout = Holdout(model, test_inputs, y[test_rows], probability, minimal_probability, frozen)
    model.metrics = holdout_metrics(holdout, thresholds, len(train_rows), config)
    return holdout


def holdout_metrics(
    holdout: Holdout, thresholds: dict[str, float], train_rows: int, config: TrainConfig
) -> dict:
    metrics: dict[str, Any] = {
        "protocol": f"{config.split} holdout"
        + (
            f" (test months {config.test_months})"
            if config.split == "temporal"
            else f" ({config.test_size:.0%})"
        ),
        "train_rows": int(train_rows),
        "holdout": classification_metrics(holdout.y_test, holdout.probability, holdout.model.threshold),
    }
    if holdout.model.outcomes_until is not None:
        metrics["outcome_feed"] = config.outcome_feed
        metrics["holdout_without_feed"] = classification_metrics(
            holdout.y_test, holdout.frozen_probability, holdout.model.threshold
        )
    if holdout.minimal_probability is not None:
        metrics["holdout_minimal_fields"] = classification_metrics(
            holdout.y_test, holdout.minimal_probability, thresholds["minimal"]
        )
    return metrics


def _delay_model(
    classifier: TieredClassifier,
    inputs: pd.DataFrame,
    config: TrainConfig,
    processed: pd.DataFrame,
    metrics: dict,
) -> DelayModel:
    import xgboost

    # Serving predicts small batches; one thread per call beats spreading them over cores.
    classifier.set_params(
        **{name: 1 for name in classifier.get_params(deep=True) if name.endswith("__n_jobs")}
    )
    fingerprint = data_fingerprint(processed)
    features = [f for f in INPUT_FIELDS if f in set(fields_of(config.features)) | set(fields_of("minimal"))]
    if config.model == "reference":
        features = fields_of("reference")
    known = {}
    for column in features:
        values = inputs[column].dropna().unique()
        known[column] = (
            sorted(int(v) for v in values) if column in NUMERIC_FIELDS else sorted(map(str, values))
        )
    year = config.year
    if year is None and "AÑO" in processed.columns:
        year = int(pd.to_numeric(processed["AÑO"], errors="coerce").mode().iloc[0])
    return DelayModel(
        pipeline=classifier,
        features=features,
        categorical=[c for c in features if c in CATEGORICAL_FIELDS],
        known_values={c: v for c, v in known.items() if c in CATEGORICAL_FIELDS or c == "MES"},
        defaults={},
        threshold=classifier.full_threshold,
        metrics=metrics,
        metadata={
            "model": config.model,
            "version": f"{config.model}-{config.features}-{fingerprint[:8]}",
            "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "data_fingerprint": fingerprint,
            "rows": int(len(processed)),
            "year": year or 2017,
            "config": asdict(config),
            "thresholds": {"full": classifier.full_threshold, "minimal": classifier.minimal_threshold},
            "library_versions": {
                "sklearn": sklearn.__version__,
                "xgboost": xgboost.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
            },
        },
    )


def train(processed: pd.DataFrame, model: str = "xgb", seed: int = 42, **options: Any) -> DelayModel:
    """Fit `model` on the processed table and return a DelayModel (see the module docstring).

    options: any TrainConfig field (features, balance, params, split, test_months, test_size,
    validation_share, threshold_folds, year, refit_full, outcome_feed).
    """
    unknown = sorted(set(options) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise InputError(f"unknown training option(s) {', '.join(unknown)}", value=unknown[0])
    config = TrainConfig(model=model, seed=seed, **options)
    holdout = holdout_evaluation(processed, config)
    if not config.refit_full:
        return holdout.model
    inputs, y = training_data(processed, config.year)
    classifier = holdout.model.pipeline
    for tier, feature_set in _tiers(config).items():
        params = _tier_params(config, feature_set)
        pipeline = make_pipeline(
            config.model, y, feature_set, config.balance, params, config.seed, config.year
        )
        setattr(classifier, tier, pipeline.fit(inputs, y))
    return _delay_model(classifier, inputs, config, processed, holdout.model.metrics)
