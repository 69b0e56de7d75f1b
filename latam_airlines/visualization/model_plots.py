"""Figures of a model evaluation: confusion matrix, ROC, PR, calibration, feature importance."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from latam_airlines.visualization.figures import themed


def _title(axes: plt.Axes, title: str, caption: str) -> None:
    """The figure's title, with the model, data and period it shows on a second line."""
    axes.set_title(f"{title}\n{caption}" if caption else title, fontsize=10)


@themed
def confusion_figure(matrix: np.ndarray, threshold: float, caption: str = "") -> plt.Figure:
    """Counts with row shares; rows = actual class, columns = predicted class."""
    figure, axes = plt.subplots(figsize=(5, 4.2))
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    labels = np.array(
        [
            [f"{count:,}\n({share:.0%})" for count, share in zip(row, srow)]
            for row, srow in zip(matrix, shares)
        ]
    )
    sns.heatmap(shares, annot=labels, fmt="", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=axes,
                xticklabels=["on time", "delayed"], yticklabels=["on time", "delayed"])  # fmt: skip
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    _title(axes, f"Confusion matrix (threshold {threshold:.3f})", caption)
    return figure


@themed
def roc_figure(curve: pd.DataFrame, auc: float, caption: str = "") -> plt.Figure:
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot(curve["fpr"], curve["tpr"], label=f"model (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate (recall, delayed)")
    _title(axes, "ROC curve", caption)
    axes.legend(loc="lower right")
    return figure


@themed
def pr_figure(
    curve: pd.DataFrame, average_precision: float, base_rate: float, caption: str = ""
) -> plt.Figure:
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot(curve["recall"], curve["precision"], label=f"model (AP {average_precision:.3f})")
    axes.axhline(base_rate, linestyle="--", color="grey", label=f"delay rate {base_rate:.1%}")
    axes.set_xlabel("recall (delayed)")
    axes.set_ylabel("precision (delayed)")
    axes.set_ylim(0, 1)
    _title(axes, "Precision-recall curve", caption)
    axes.legend(loc="upper right")
    return figure


@themed
def calibration_figure(curve: pd.DataFrame, metrics: dict | None = None, caption: str = "") -> plt.Figure:
    """Observed vs predicted per probability bin; with `metrics`, the constant base-rate
    answer (one point) and both Brier scores in the legend."""
    metrics = metrics or {}
    figure, axes = plt.subplots(figsize=(5, 5))
    label = "model" + (
        f" (Brier {metrics['brier']:.4f}, ECE {metrics['ece']:.3f})" if "brier" in metrics else ""
    )
    axes.plot(curve["predicted"], curve["observed"], marker="o", label=label)
    if "delay_rate" in metrics:
        rate = metrics["delay_rate"]
        base = f"base rate {rate:.3f}" + (
            f" (Brier {metrics['brier_base_rate']:.4f})" if "brier_base_rate" in metrics else ""
        )
        axes.plot([rate], [rate], marker="s", color="black", linestyle="none", label=base)
        axes.axhline(rate, color="black", linewidth=0.6, alpha=0.4)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.set_xlabel("mean predicted probability (bin)")
    axes.set_ylabel("observed delay rate (bin)")
    _title(axes, "Calibration curve", caption)
    axes.legend(loc="upper left")
    return figure


@themed
def importance_figure(importance: pd.DataFrame, caption: str = "") -> plt.Figure:
    """Permutation importance: drop in ROC-AUC when a field is shuffled (mean ± std)."""
    ordered = importance.sort_values("auc_drop", ascending=True)
    figure, axes = plt.subplots(figsize=(6, 0.4 * len(ordered) + 1.5))
    axes.barh(
        ordered["field"], ordered["auc_drop"], xerr=ordered["auc_drop_std"], color=sns.color_palette()[0]
    )
    axes.set_xlabel("ROC-AUC drop when the field is shuffled")
    axes.set_ylabel("input field")
    _title(axes, "Permutation feature importance", caption)
    return figure
