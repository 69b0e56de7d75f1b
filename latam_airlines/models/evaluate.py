"""Evaluate a model artifact: metrics, curves (CSV for `dvc plots`) and figures (PNG).

On the data the artifact was trained on (same fingerprint) the artifact itself saw every row,
so the evaluation reports the holdout that `train` recorded in the artifact (`evidence`: the
test part's labels, probabilities as scored, and permutation importance): nothing is fitted
again. An older artifact without that record re-runs its holdout protocol, and says so. On any
other table the artifact is scored as it is, on every row.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

from latam_airlines.io import write_table, write_text
from latam_airlines.models.artifact import DelayModel
from latam_airlines.models.importance import permutation_importance
from latam_airlines.models.metrics import classification_metrics
from latam_airlines.models.splits import describe_test_part
from latam_airlines.models.training import TrainConfig, holdout_evaluation
from latam_airlines.models.training_data import data_fingerprint, training_data

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    protocol: str
    metrics: dict[str, Any]
    confusion: np.ndarray
    curves: dict[str, pd.DataFrame]
    importance: pd.DataFrame
    caption: str = ""  # model, data and period: the second line of every figure's title


def _thin(frame: pd.DataFrame, points: int = 300) -> pd.DataFrame:
    """At most `points` rows of a curve (small CSVs for DVC plots)."""
    if len(frame) <= points:
        return frame.reset_index(drop=True)
    keep = np.unique(np.linspace(0, len(frame) - 1, points).astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def _curves(y: np.ndarray, probability: np.ndarray) -> dict[str, pd.DataFrame]:
    fpr, tpr, _ = roc_curve(y, probability)
    precision, recall, _ = precision_recall_curve(y, probability)
    observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
    return {
        "roc": _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr})),
        "pr": _thin(pd.DataFrame({"recall": recall, "precision": precision})),
        "calibration": pd.DataFrame({"predicted": predicted, "observed": observed}),
    }


def _caption(model: DelayModel, processed: pd.DataFrame, period: str) -> str:
    source = Path(str(processed.attrs.get("source") or "in-memory table")).name
    return f"{model.metadata.get('version', 'model')} on {source}" + (f", {period}" if period else "")


def evaluate(
    model: DelayModel,
    processed: pd.DataFrame,
    repeats: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Evaluation:
    """Metrics, curves and importance of `model` on `processed` (see the module docstring);
    `repeats` of the permutation importance: default the settings' evaluate.permutation_repeats."""
    config = model.metadata.get("config")
    same_data = model.metadata.get("data_fingerprint") == data_fingerprint(processed)
    evidence = getattr(model, "evidence", None)
    if same_data and evidence:
        y, probability = (
            np.asarray(evidence["y"], dtype=int),
            np.asarray(evidence["probability"], dtype=float),
        )
        metrics = dict(model.metrics["holdout"])
        matrix = confusion_matrix(y, np.asarray(evidence["decision"], dtype=int), labels=[0, 1])
        importance = pd.DataFrame(evidence["importance"])
        protocol = evidence["protocol"] + " (as recorded by train: the artifact is not refitted)"
        caption = _caption(model, processed, "holdout " + evidence.get("period", ""))
        return Evaluation(protocol, metrics, matrix, _curves(y, probability), importance, caption)
    if same_data and config:
        log.warning(
            "this artifact keeps no holdout record (trained by an older version): re-running its "
            "holdout protocol, which fits the training part again"
        )
        holdout = holdout_evaluation(processed, TrainConfig(**config), on_step)
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
        period = "holdout " + (holdout.model.evidence or {}).get("period", "")
    else:
        _, y = training_data(processed, model.year)
        scored, inputs = model, model.prepare(processed)
        # Each row as the model answers it: its regime's calibrated probability and threshold.
        probability, _, regime = model.decide(inputs)
        thresholds = model.thresholds
        threshold = np.array([thresholds.get(name, model.threshold) for name in regime])
        protocol = "artifact scored as is on every row (not its training data)"
        metrics = classification_metrics(y, probability, threshold)
        period = describe_test_part(processed, np.arange(len(processed)), model.year)
    if on_step is not None:
        on_step("permutation importance")
    importance = permutation_importance(
        lambda frame: scored.pipeline.predict_proba(frame)[:, 1], inputs, y, scored.features, repeats
    )
    matrix = confusion_matrix(y, (probability >= threshold).astype(int), labels=[0, 1])
    return Evaluation(
        protocol, metrics, matrix, _curves(y, probability), importance, _caption(model, processed, period)
    )


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
    caption = evaluation.caption
    figures = {
        "confusion_matrix.png": confusion_figure(evaluation.confusion, metrics["threshold"], caption),
        "roc_curve.png": roc_figure(evaluation.curves["roc"], metrics["roc_auc"], caption),
        "pr_curve.png": pr_figure(evaluation.curves["pr"], metrics["pr_auc"], metrics["delay_rate"], caption),
        "calibration_curve.png": calibration_figure(evaluation.curves["calibration"], metrics, caption),
        "feature_importance.png": importance_figure(evaluation.importance, caption),
    }
    written += [save_figure(figure, figures_dir / name) for name, figure in figures.items()]
    return written
