"""Decision threshold and the classification metrics every report uses."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)


def best_f1_threshold(y_true: np.ndarray, probability: np.ndarray) -> float:
    """The probability cut-off maximising F1 of the delayed class (call on validation data only)."""
    precision, recall, thresholds = precision_recall_curve(y_true, probability)
    if len(thresholds) == 0:
        return 0.5
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def classification_metrics(y_true: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, float]:
    """Threshold-free (ROC-AUC, PR-AUC) and thresholded metrics, per class and overall."""
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
        "threshold": float(threshold),
        "delay_rate": float(y_true.mean()),
        "rows": int(len(y_true)),
    }
    for label, name in ((1, "delayed"), (0, "on_time")):
        metrics[f"precision_{name}"] = float(precision[label])
        metrics[f"recall_{name}"] = float(recall[label])
        metrics[f"f1_{name}"] = float(f1[label])
        metrics[f"support_{name}"] = int(support[label])
    return metrics


def confusion(y_true: np.ndarray, probability: np.ndarray, threshold: float) -> np.ndarray:
    """2x2 confusion matrix, rows = actual (on time, delayed), columns = predicted."""
    return confusion_matrix(
        np.asarray(y_true).astype(int), (probability >= threshold).astype(int), labels=[0, 1]
    )
