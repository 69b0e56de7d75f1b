"""Hyperparameter search (Optuna TPE) scored by cross-validation on the training part only.

The temporal test months are left out of the search entirely, so the holdout numbers that
`train` reports afterwards are not tuned on. The best parameters go to a small YAML file
(`tune.output` in params.yaml) that `latam train` merges over the model's defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from latam_airlines.errors import InputError
from latam_airlines.io import write_text
from latam_airlines.models.pipelines import make_pipeline
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training_data import training_data

TUNABLE: tuple[str, ...] = ("logreg", "xgb", "lgbm")


def _space(trial: Any, model: str) -> dict[str, Any]:
    if model == "logreg":
        return {"C": trial.suggest_float("C", 0.005, 10, log=True)}
    if model == "xgb":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 150, 800, step=50),
            "max_depth": trial.suggest_int("max_depth", 3, 7),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 1, 50, log=True),
            "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 20, log=True),
        }
    return {
        "n_estimators": trial.suggest_int("n_estimators", 150, 800, step=50),
        "num_leaves": trial.suggest_int("num_leaves", 7, 63),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "subsample": trial.suggest_float("subsample", 0.6, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 200, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 20, log=True),
    }


def tune(
    processed: pd.DataFrame,
    model: str | None = None,
    trials: int | None = None,
    folds: int | None = None,
    features: str | None = None,
    seed: int | None = None,
    year: int | None = None,
    split: Mapping[str, Any] | None = None,
    on_trial: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Best params by mean ROC-AUC over `folds` stratified folds of the training part; what is
    not given comes from the settings (tune.model, tune.trials, tune.folds, train.features, seed)."""
    import optuna

    from latam_airlines.settings import current, filled

    settings = current()
    model, trials, folds = filled(settings.tune, model=model, trials=trials, folds=folds)
    (features,) = filled(settings.train, features=features)
    (seed,) = filled(settings, seed=seed)

    if model not in TUNABLE:
        raise InputError(f"tuning supports {', '.join(TUNABLE)}, not {model!r}", value=model)
    if trials < 1 or folds < 2:
        raise InputError(f"need trials >= 1 and folds >= 2, got trials={trials}, folds={folds}")
    inputs, y = training_data(processed, year)
    train_rows, _ = holdout_split(processed, **{"split": "temporal", **(split or {})}, seed=seed, year=year)
    inputs, y = inputs.iloc[train_rows], y[train_rows]
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(inputs, y))

    def objective(trial: Any) -> float:
        params = _space(trial, model)
        scores = []
        for fit, score in splits:
            pipeline = make_pipeline(model, y[fit], features, settings.train.balance, params, seed)
            pipeline.fit(inputs.iloc[fit], y[fit])
            scores.append(roc_auc_score(y[score], pipeline.predict_proba(inputs.iloc[score])[:, 1]))
        value = float(np.mean(scores))
        if on_trial:
            on_trial(trial.number, value)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return {
        "model": model,
        "params": study.best_params,
        "cv_roc_auc": float(study.best_value),
        "trials": trials,
        "folds": folds,
        # every trial, for MLflow's nested runs (tracking/commands.py)
        "history": [{"number": t.number, "value": t.value, "params": t.params} for t in study.trials],
    }


def save_tuned(result: dict[str, Any], path: str | Path) -> Path:
    """Merge `result` into the tuned-params YAML (one entry per model)."""
    path = Path(path)
    current = load_tuned(path)
    current[result["model"]] = {
        **{k: (float(v) if isinstance(v, float) else v) for k, v in result["params"].items()},
    }
    header = "# Written by `latam tune`; `latam train` merges these over the model defaults.\n"
    return write_text(header + yaml.safe_dump(current, sort_keys=True), path)


def load_tuned(path: str | Path) -> dict[str, dict[str, Any]]:
    """model -> params from the tuned-params YAML ({} when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InputError(f"not a readable YAML file ({error})", file=str(path)) from None
    if not isinstance(loaded, dict):
        raise InputError("expected a mapping model -> params", file=str(path))
    return loaded
