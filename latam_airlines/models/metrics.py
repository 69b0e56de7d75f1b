"""Decision threshold and the classification metrics every report uses."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)


def best_f1_threshold(
    y_true: np.ndarray,
    probability: np.ndarray,
    max_flagged: float | None = None,
    steady: bool = False,
    sample_weight: np.ndarray | None = None,
) -> float:
    """The probability cut-off maximising F1 of the delayed class (call on validation data only);
    with `max_flagged`, among cut-offs labelling at most that share of the rows delayed; with
    `steady`, the highest cut-off whose F1 is within one standard error of that best
    (`steady_f1_cutoff`: the minimal tiers, whose F1 curve is flat near its top); with
    `sample_weight`, F1 of the rows so weighted (e.g. reweighted to another delay rate)."""
    y_true = np.asarray(y_true, dtype=float)
    probability = np.asarray(probability, dtype=float)
    if len(probability) == 0:
        return 0.5
    weight = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    cutoffs, true_positives, flagged = ranked_cutoffs(y_true, probability, weight)
    positives = float(np.sum(weight * y_true))
    allowed = np.ones(len(cutoffs), bool) if max_flagged is None else flagged <= max_flagged * weight.sum()
    if steady:
        return float(cutoffs[steady_f1_cutoff(true_positives, flagged, positives, allowed)])
    f1 = f1_of_cutoffs(true_positives, flagged, positives)
    return float(cutoffs[int(np.argmax(np.where(allowed, f1, -1.0)))])


def ranked_cutoffs(
    y_true: np.ndarray, probability: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cut-offs from the highest, delayed rows flagged, rows flagged) for every distinct
    probability as the cut-off of `probability >= cut-off` (ties are flagged together); with
    `weight`, the rows' weights are counted instead of the rows."""
    order = np.argsort(-probability, kind="stable")
    ranked = probability[order]
    last_of_value = np.r_[ranked[1:] != ranked[:-1], True]
    weight = np.ones(len(ranked)) if weight is None else np.asarray(weight, dtype=float)[order]
    true_positives = np.cumsum(y_true[order] * weight)[last_of_value]
    flagged = np.cumsum(weight)[last_of_value]
    return ranked[last_of_value], true_positives, flagged


def f1_of_cutoffs(true_positives: np.ndarray, flagged: np.ndarray, positives: float) -> np.ndarray:
    """F1 of the delayed class at each cut-off: 2 TP / (delayed rows + flagged rows)."""
    return 2 * true_positives / np.maximum(positives + flagged, 1)


def steady_f1_cutoff(
    true_positives: np.ndarray, flagged: np.ndarray, positives: float, allowed: np.ndarray | None = None
) -> int:
    """Index, among cut-offs ordered from the highest (`ranked_cutoffs`), of the highest allowed
    one whose F1 is within one standard error of the best allowed F1.

    Why not the best: a weak ranking's F1 curve is flat near its top, so its argmax wanders
    along the plateau with small changes of the probabilities (the minimal tiers' share flagged
    out of fold moved by up to 10 points with numpy's thread count). Every cut-off within one
    standard error of the best is as good as the data can tell; the highest flags fewest (the
    one-standard-error rule of Breiman et al. 1984, "fewest flagged" as the simplest) and sits
    where the curve still rises, so it moves little (reports/model_selection.md, tenth pass).
    The standard error is that of F1 = sum(z) / sum(w) over rows, z = 2 y f, w = y + f (y
    delayed, f flagged; delta method, rows independent), which the counts give."""
    f1 = f1_of_cutoffs(true_positives, flagged, positives)
    usable = np.ones(len(f1), bool) if allowed is None else np.asarray(allowed, bool)
    if not usable.any():
        return 0
    best = int(np.argmax(np.where(usable, f1, -1.0)))
    hits, rows = true_positives[best], positives + flagged[best]
    # sum over rows of (z - F1 w)^2, with z^2 = z w = 4 y f and w^2 = y + f + 2 y f
    spread = 4 * hits - 8 * f1[best] * hits + f1[best] ** 2 * (rows + 2 * hits)
    standard_error = np.sqrt(max(spread, 0.0)) / max(rows, 1)
    return int(np.argmax(usable & (f1 >= f1[best] - standard_error)))


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
