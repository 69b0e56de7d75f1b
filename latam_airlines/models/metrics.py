"""Decision threshold and the classification metrics every report uses."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)


def best_f1_threshold(
    y_true: np.ndarray,
    probability: np.ndarray,
    max_flagged: float | None = None,
    sample_weight: np.ndarray | None = None,
) -> float:
    """The probability cut-off maximising F1 of the delayed class (call on validation data only);
    with `max_flagged`, among cut-offs labelling at most that share of the rows delayed; with
    `sample_weight`, F1 of the rows so weighted (e.g. reweighted to another delay rate)."""
    precision, recall, thresholds = precision_recall_curve(y_true, probability, sample_weight=sample_weight)
    if len(thresholds) == 0:
        return 0.5
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    if max_flagged is not None:
        ordered = np.sort(np.asarray(probability))
        flagged = 1 - np.searchsorted(ordered, thresholds, side="left") / len(ordered)
        f1 = np.where(flagged <= max_flagged, f1, -1.0)
    return float(thresholds[int(np.argmax(f1))])


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, threshold: float | np.ndarray
) -> dict[str, float]:
    """Threshold-free (ROC-AUC, PR-AUC, calibration) and thresholded metrics, per class and
    overall. `threshold` may be one per row (each tier has its own)."""
    y_true = np.asarray(y_true).astype(int)
    predicted = (np.asarray(probability) >= threshold).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=[0, 1], zero_division=0
    )
    both_classes = len(np.unique(y_true)) == 2
    metrics = {
        "roc_auc": float(roc_auc_score(y_true, probability)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(y_true, probability)) if both_classes else float("nan"),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "threshold": float(np.mean(threshold)),
        "delay_rate": float(y_true.mean()),
        "rows": int(len(y_true)),
        "flagged_share": float(predicted.mean()),
        **calibration_metrics(y_true, probability),
    }
    for label, name in ((1, "delayed"), (0, "on_time")):
        metrics[f"precision_{name}"] = float(precision[label])
        metrics[f"recall_{name}"] = float(recall[label])
        metrics[f"f1_{name}"] = float(f1[label])
        metrics[f"support_{name}"] = int(support[label])
    return metrics


def expected_calibration_error(y_true: np.ndarray, probability: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean predicted| over `bins` equal-count bins of the probability,
    weighted by their rows (equal-count: most flights sit below 0.3, equal-width bins would
    leave the upper ones nearly empty)."""
    probability = np.asarray(probability, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    if not len(y_true):
        return float("nan")
    order = np.argsort(probability, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, min(bins, len(order))):
        error += len(chunk) * abs(y_true[chunk].mean() - probability[chunk].mean())
    return float(error / len(y_true))


def calibration_metrics(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Brier score, log-loss and ECE of the probabilities, beside those of the constant
    base-rate answer (the rows' own delay rate: the best constant, known only afterwards)."""
    y_true = np.asarray(y_true).astype(int)
    probability = np.clip(np.asarray(probability, dtype=float), 1e-6, 1 - 1e-6)
    rate = float(y_true.mean())
    constant = np.full(len(y_true), np.clip(rate, 1e-6, 1 - 1e-6))
    return {
        "brier": float(brier_score_loss(y_true, probability)),
        "log_loss": float(log_loss(y_true, probability, labels=[0, 1])),
        "ece": expected_calibration_error(y_true, probability),
        "mean_probability": float(probability.mean()),
        "brier_base_rate": float(brier_score_loss(y_true, constant)),
        "log_loss_base_rate": float(log_loss(y_true, constant, labels=[0, 1])),
    }
