"""The candidate classifiers, each a pipeline: features -> (sampler) -> estimator.

Class imbalance (~18.5 % delayed) is handled inside the pipeline, so cross-validation refits
it on each training fold only: `balance="weight"` (class weights / scale_pos_weight),
`"undersample"` (imbalanced-learn RandomUnderSampler, applied by the pipeline at fit time
only) or `"none"`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from latam_airlines.errors import InputError
from latam_airlines.features.engineered import DEFAULT_YEAR, FEATURE_SETS, FlightFeatures, ReferenceFeatures

MODELS: tuple[str, ...] = ("reference", "logreg", "rf", "xgb", "lgbm", "catboost")
BALANCES: tuple[str, ...] = ("weight", "undersample", "none")
# One thread per estimator: on this shared 2-core machine, XGBoost on 2 threads beside other
# busy processes measured 5-20x slower than on 1 (OpenMP threads wait on each other).
N_JOBS = 1
# CatBoost: two threads measured 1.8x faster than one (10 s vs 18 s per fit on Jan-Oct), which
# keeps `train` (four fits) under a minute; serving resets every n_jobs to 1.
CATBOOST_JOBS = 2

# Defaults of each estimator; `latam tune` results and params.yaml override them.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "reference": {},
    "logreg": {"C": 0.5, "max_iter": 500},
    "rf": {"n_estimators": 200, "min_samples_leaf": 20, "max_features": 0.5},
    "xgb": {
        "n_estimators": 400,
        "max_depth": 4,
        "learning_rate": 0.03,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 5,
    },  # fmt: skip
    "catboost": {"iterations": 300, "depth": 4, "learning_rate": 0.08},
    "lgbm": {
        "n_estimators": 400,
        "num_leaves": 15,
        "learning_rate": 0.03,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "min_child_samples": 40,
    },  # fmt: skip
}


def check_model(model: str) -> str:
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}", value=model)
    return model


def _estimator(model: str, weight: float | None, params: dict[str, Any], seed: int) -> Any:
    """`weight` = n_negative / n_positive when balancing by weights, else None."""
    if model in ("reference", "xgb"):
        import xgboost

        settings = {} if model == "reference" else params
        return xgboost.XGBClassifier(
            **settings, scale_pos_weight=weight or 1.0, random_state=seed, n_jobs=N_JOBS, tree_method="hist"
        )
    if model == "lgbm":
        import lightgbm

        return lightgbm.LGBMClassifier(
            **params, scale_pos_weight=weight or 1.0, random_state=seed, n_jobs=N_JOBS, verbose=-1
        )
    if model == "catboost":
        from latam_airlines.models.catboost_codes import CatBoostOnCodes, require_catboost

        require_catboost()  # optional extra: fail before any fitting, with the install command
        return CatBoostOnCodes(
            **params, scale_pos_weight=weight or 1.0, random_state=seed, n_jobs=CATBOOST_JOBS
        )
    if model == "rf":
        return RandomForestClassifier(
            **params, class_weight="balanced_subsample" if weight else None, random_state=seed, n_jobs=N_JOBS
        )
    return LogisticRegression(**params, class_weight="balanced" if weight else None, random_state=seed)


def make_pipeline(
    model: str,
    y: np.ndarray,
    feature_set: str = "full",
    balance: str = "weight",
    params: dict[str, Any] | None = None,
    seed: int = 42,
    year: int | None = None,
) -> Pipeline:
    """An unfitted pipeline for `model`; `y` (the training labels) sets the class weight;
    `year` (default 2017) dates MES/DIA for the holiday features."""
    check_model(model)
    if balance not in BALANCES:
        raise InputError(f"unknown balance {balance!r}; expected one of {', '.join(BALANCES)}", value=balance)
    settings = {**DEFAULT_PARAMS[model], **(params or {})}
    positives = max(int(np.sum(y)), 1)
    weight = (len(y) - positives) / positives if balance == "weight" else None
    if model == "catboost" and feature_set == "full":
        feature_set = "catboost"  # raw categories and combinations: CatBoost learns their rates
    if model == "reference":
        features: Any = ReferenceFeatures()
    else:
        # Linear models need one-hot categories; trees split on codes and missing values.
        features = FlightFeatures(
            feature_set, one_hot=model == "logreg", random_state=seed, year=year or DEFAULT_YEAR
        )
    steps: list[tuple[str, Any]] = [("features", features)]
    if model == "logreg":
        steps.append(("scale", StandardScaler()))
    if balance == "undersample":
        steps.append(("sample", RandomUnderSampler(random_state=seed)))
    if model == "catboost":
        spec = FEATURE_SETS[feature_set]
        settings = {**settings, "n_categorical": len(spec["categorical"]) + len(spec.get("combos", []))}
    steps.append(("classify", _estimator(model, weight, settings, seed)))
    return Pipeline(steps)


def outcome_history_step(pipeline: Any) -> FlightFeatures | None:
    """The fitted feature step of a pipeline when it keeps a recent-delay history."""
    step = getattr(pipeline, "named_steps", {}).get("features")
    return step if getattr(step, "outcomes_", None) else None


def record_schedule(pipeline: Any, flights: Any) -> int:
    """Add planned flights (canonical fields) to the pipeline's schedule book, when its
    feature set counts the schedule; returns how many were usable (0 otherwise)."""
    step = getattr(pipeline, "named_steps", {}).get("features")
    return step.record_schedule(flights) if hasattr(step, "record_schedule") else 0
