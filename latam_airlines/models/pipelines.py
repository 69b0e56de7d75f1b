"""The candidate classifiers, each a pipeline: features -> (sampler) -> estimator; `make_pipeline`
builds one, `Candidate` / `default_candidates` name the rows `latam compare` fits.

Class imbalance (~18.5 % delayed) is handled inside the pipeline, so cross-validation refits
it on each training fold only: `balance="weight"` (class weights / scale_pos_weight),
`"undersample"` (imbalanced-learn RandomUnderSampler, applied by the pipeline at fit time
only) or `"none"`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from latam_airlines.errors import InputError
from latam_airlines.features.canonical import DEFAULT_YEAR
from latam_airlines.features.feature_sets import FEATURE_SETS
from latam_airlines.features.transformers import FlightFeatures, ReferenceFeatures
from latam_airlines.models.catboost_adapter import INSTALL_HINT, catboost_available, require_catboost

log = logging.getLogger(__name__)

MODELS: tuple[str, ...] = ("reference", "logreg", "rf", "xgb", "lgbm", "catboost")
BALANCES: tuple[str, ...] = ("weight", "undersample", "none")
# One thread per estimator: beside other busy processes, OpenMP threads of XGBoost wait on
# each other (reports/model_selection.md, "Thread counts", has the measurements).
N_JOBS = 1
# CatBoost fits faster on two threads than on one; serving resets every n_jobs to 1.
CATBOOST_JOBS = 2

# Each estimator's hyperparameters before tuning; `latam tune`'s results (the file at settings
# train.tuned_params) override them per model.
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
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
        from latam_airlines.models.catboost_adapter import CatBoostOnCodes

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
    feature_set: str | None = None,
    balance: str | None = None,
    params: dict[str, Any] | None = None,
    seed: int | None = None,
    year: int | None = None,
) -> Pipeline:
    """An unfitted pipeline for `model`; `y` (the training labels) sets the class weight;
    `year` (default 2017) dates MES/DIA for the holiday features. Feature set, balance and seed
    not given: the settings' train.features, train.balance and seed."""
    from latam_airlines.settings import current, filled

    feature_set, balance = filled(current().train, features=feature_set, balance=balance)
    (seed,) = filled(current(), seed=seed)
    check_model(model)
    if balance not in BALANCES:
        raise InputError(f"unknown balance {balance!r}; expected one of {', '.join(BALANCES)}", value=balance)
    # A feature set may ask for its own settings ("params" per model: features/feature_sets.py).
    preferred = dict(FEATURE_SETS.get(feature_set, {}).get("params", {}).get(model, {}))
    if "C_flights" in preferred:  # a strength per training flight (feature_sets.py, "params")
        preferred["C"] = preferred.pop("C_flights") / max(len(y), 1)
    settings = {**HYPERPARAMETERS[model], **preferred, **(params or {})}
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


@dataclass
class Candidate:
    """One row of the comparison: a model with its feature set, balancing and parameters."""

    name: str
    model: str
    features: str = "full"
    balance: str = "weight"
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def default_candidates(tuned: dict[str, dict[str, Any]] | None = None) -> list[Candidate]:
    """Question 1 (which model) and question 2 (which improvements), xgb as the base of the latter."""
    candidates = [
        Candidate("reference", "reference", note="challenge reference: xgb, 10 one-hot features"),
        Candidate("logreg", "logreg", note="one-hot + history + congestion + holidays + recent rates, balanced weights"),
        Candidate("rf", "rf", note="balanced_subsample weights"),
        Candidate("lgbm", "lgbm", note="scale_pos_weight"),
        Candidate("xgb", "xgb", note="scale_pos_weight"),
        Candidate("catboost", "catboost", note="raw categories + combinations, holidays; scale_pos_weight"),
        Candidate("xgb base", "xgb", "base", note="seed fields only (no history, no congestion)"),
        Candidate("xgb +history", "xgb", "history", note="+ delay rates of destination, airline, route, slot"),
        Candidate("xgb +congestion", "xgb", "congestion", note="+ schedule counts"),
        Candidate("xgb +holidays", "xgb", "static", note="+ Chilean holiday calendar (full = this + recent rates)"),
        Candidate("logreg static", "logreg", "static", note="the chosen logreg without recent delay rates"),
        Candidate("xgb +month", "xgb", "full_with_month", note="full + MES, DIA"),
        Candidate("xgb undersample", "xgb", balance="undersample", note="RandomUnderSampler instead of weights"),
        Candidate("xgb no balancing", "xgb", balance="none", note="no class weights, threshold still tuned"),
    ]  # fmt: skip
    if tuned and "xgb" in tuned:
        candidates.append(Candidate("xgb tuned", "xgb", params=tuned["xgb"], note="Optuna params"))
    if not catboost_available():  # an optional extra: compare the others and say so
        log.warning("catboost is not installed (%s): comparing without it", INSTALL_HINT)
        candidates = [c for c in candidates if c.model != "catboost"]
    return candidates


def select_candidates(names: Sequence[str] | None, tuned: dict | None = None) -> list[Candidate]:
    candidates = default_candidates(tuned)
    if not names:
        return candidates
    by_name = {c.name: c for c in candidates}
    chosen = []
    for name in names:
        if name in by_name:
            chosen.append(by_name[name])
        elif name in MODELS:
            chosen.append(Candidate(name, name))
        else:
            raise InputError(f"unknown candidate {name!r}; expected one of {', '.join(by_name)}", value=name)
    if any(c.model == "catboost" for c in chosen):
        require_catboost()  # before any candidate is fitted
    return chosen
