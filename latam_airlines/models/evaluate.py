"""Evaluate a model artifact: metrics, curves (CSV for `dvc plots`) and figures (PNG).

On the data the artifact was trained on (same fingerprint) the artifact itself saw every row,
so the evaluation re-runs its holdout protocol (same configuration and seed: fit on the
training part, threshold on validation, score the test part). On any other table the
artifact is scored as it is, on every row.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from latam_airlines.io import write_table, write_text
from latam_airlines.models.delay_model import DelayModel
from latam_airlines.models.metrics import classification_metrics, confusion
from latam_airlines.models.train_model import TrainConfig, data_fingerprint, holdout_evaluation, training_data


@dataclass
class Evaluation:
    protocol: str
    metrics: dict[str, Any]
    confusion: np.ndarray
    curves: dict[str, pd.DataFrame]
    importance: pd.DataFrame


def _thin(frame: pd.DataFrame, points: int = 300) -> pd.DataFrame:
    """At most `points` rows of a curve (small CSVs for DVC plots)."""
    if len(frame) <= points:
        return frame.reset_index(drop=True)
    keep = np.unique(np.linspace(0, len(frame) - 1, points).astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def permutation_importance(
    model: DelayModel, inputs: pd.DataFrame, y: np.ndarray, repeats: int = 3, seed: int = 42
) -> pd.DataFrame:
    """ROC-AUC drop when each input field is shuffled (fields, not encoded columns: a field's
    category code, history rates and congestion counts move together)."""
    generator = np.random.default_rng(seed)
    baseline = roc_auc_score(y, model.pipeline.predict_proba(inputs)[:, 1])
    rows = []
    for field in model.features:
        drops = []
        for _ in range(repeats):
            shuffled = inputs.copy()
            shuffled[field] = generator.permutation(shuffled[field].to_numpy())
            drops.append(baseline - roc_auc_score(y, model.pipeline.predict_proba(shuffled)[:, 1]))
        rows.append({"field": field, "auc_drop": float(np.mean(drops)), "auc_drop_std": float(np.std(drops))})
    return pd.DataFrame(rows).sort_values("auc_drop", ascending=False).reset_index(drop=True)


def evaluate(model: DelayModel, processed: pd.DataFrame, repeats: int = 3) -> Evaluation:
    """Metrics, curves and importance of `model` on `processed` (see the module docstring)."""
    config = model.metadata.get("config")
    if config and model.metadata.get("data_fingerprint") == data_fingerprint(processed):
        holdout = holdout_evaluation(processed, TrainConfig(**config))
        scored, inputs, y, probability = (
            holdout.model,
            holdout.test_inputs,
            holdout.y_test,
            holdout.probability,
        )
        protocol = holdout.model.metrics["protocol"] + " (refitted on the training part, fed daily)"
        if holdout.fed_pipeline is not None:  # importance as scored: with the fed history
            scored = copy.copy(holdout.model)
            scored.pipeline = holdout.fed_pipeline
        metrics = dict(holdout.model.metrics["holdout"])
        threshold = metrics["threshold"]
    else:
        _, y = training_data(processed, model.year)
        scored, inputs = model, model.prepare(processed)
        # Each row as the model answers it: its regime's calibrated probability and threshold.
        probability, _, regime = model.decide(inputs)
        thresholds = model.thresholds
        threshold = np.array([thresholds.get(name, model.threshold) for name in regime])
        protocol = "artifact scored as is on every row (not its training data)"
        metrics = classification_metrics(y, probability, threshold)
    fpr, tpr, _ = roc_curve(y, probability)
    precision, recall, _ = precision_recall_curve(y, probability)
    observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
    curves = {
        "roc": _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr})),
        "pr": _thin(pd.DataFrame({"recall": recall, "precision": precision})),
        "calibration": pd.DataFrame({"predicted": predicted, "observed": observed}),
    }
    importance = permutation_importance(scored, inputs, y, repeats=repeats)
    return Evaluation(protocol, metrics, confusion(y, probability, threshold), curves, importance)


def write_evaluation(evaluation: Evaluation, reports_dir: str | Path, figures_dir: str | Path) -> list[Path]:
    """evaluation.json + curve CSVs under reports_dir/plots, PNGs under figures_dir."""
    from latam_airlines.visualization.figures import save_figure
    from latam_airlines.visualization.model_plots import (
        calibration_figure,
        confusion_figure,
        importance_figure,
        pr_figure,
        roc_figure,
    )

    reports_dir, figures_dir = Path(reports_dir), Path(figures_dir)
    metrics = evaluation.metrics
    payload = {
        "protocol": evaluation.protocol,
        **metrics,
        "confusion_matrix": {
            "actual_on_time": evaluation.confusion[0].tolist(),
            "actual_delayed": evaluation.confusion[1].tolist(),
        },
    }
    written = [write_text(json.dumps(payload, indent=2) + "\n", reports_dir / "evaluation.json")]
    for name, curve in evaluation.curves.items():
        written.append(write_table(curve, reports_dir / "plots" / f"{name}.csv"))
    written.append(write_table(evaluation.importance, reports_dir / "plots" / "importance.csv"))
    figures = {
        "confusion_matrix.png": confusion_figure(evaluation.confusion, metrics["threshold"]),
        "roc_curve.png": roc_figure(evaluation.curves["roc"], metrics["roc_auc"]),
        "pr_curve.png": pr_figure(evaluation.curves["pr"], metrics["pr_auc"], metrics["delay_rate"]),
        "calibration_curve.png": calibration_figure(evaluation.curves["calibration"], metrics),
        "feature_importance.png": importance_figure(evaluation.importance),
    }
    written += [save_figure(figure, figures_dir / name) for name, figure in figures.items()]
    return written
