"""What `latam train`, `evaluate`, `compare` and `tune` log to MLflow (one function each).

Each takes the command's results after the work is done, so tracking adds no work to the
command itself beyond the logging calls (measured in reports/mlflow.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from latam_airlines.tracking.runs import Tracker


def _tags(command: str) -> dict[str, str]:
    return {"latam.command": command}


def track_train(
    params: Mapping[str, Any],
    table: pd.DataFrame,
    delay_model: Any,
    artifact: Path,
    seconds: float | None = None,
    tracker: Tracker | None = None,
) -> tuple[Tracker, str | None]:
    """A `train` run: the training config and params.yaml `train:` section, holdout metrics,
    data fingerprint and source, library versions, the artifact as a registered pyfunc model.
    Returns (tracker, registered version or None)."""
    from latam_airlines.tracking.registry import log_delay_model

    tracker = tracker or Tracker(params)
    version = None
    with tracker.run(f"train {delay_model.metadata.get('model')}", tags=_tags("train")):
        tracker.log_params({"config": delay_model.metadata.get("config", {}), "params": params["train"]})
        tracker.log_params({"seed": params["seed"], "model_version": delay_model.metadata.get("version")})
        tracker.log_data(table, fingerprint=delay_model.metadata.get("data_fingerprint"))
        tracker.log_environment()
        tracker.log_metrics({k: v for k, v in delay_model.metrics.items() if isinstance(v, Mapping)})
        if seconds is not None:
            tracker.log_metrics({"train_seconds": seconds})
        tracker.set_tags({"data_fingerprint": delay_model.metadata.get("data_fingerprint"),
                          "artifact": str(artifact)})  # fmt: skip
        version = log_delay_model(tracker, delay_model)
    return tracker, version


def track_evaluate(
    params: Mapping[str, Any],
    table: pd.DataFrame,
    delay_model: Any,
    evaluation: Any,
    written: Sequence[Path],
    tracker: Tracker | None = None,
) -> Tracker:
    """An `evaluate` run: what evaluate returned (metrics, protocol), its figures and files."""
    tracker = tracker or Tracker(params)
    with tracker.run(f"evaluate {delay_model.metadata.get('version')}", tags=_tags("evaluate")):
        tracker.log_params({"model_version": delay_model.metadata.get("version"), "protocol": evaluation.protocol,
                            "evaluate": params["evaluate"]})  # fmt: skip
        tracker.log_data(table, "evaluation")
        tracker.log_environment()
        tracker.log_metrics(evaluation.metrics)
        for path in written:
            folder = "figures" if Path(path).suffix == ".png" else "reports"
            tracker.log_artifact(path, folder)
    return tracker


def track_compare(
    params: Mapping[str, Any],
    table: pd.DataFrame,
    scores: pd.DataFrame,
    folds: int,
    report: Path | None = None,
    tracker: Tracker | None = None,
) -> Tracker:
    """A `compare` run with one nested run per candidate: mean and std of every metric per
    protocol (the runs table of the MLflow UI is the comparison table)."""
    tracker = tracker or Tracker(params)
    metric_columns = [c for c in scores.columns if c not in ("candidate", "protocol", "fold")]
    with tracker.run("compare", tags=_tags("compare")):
        tracker.log_params({"folds": folds, "candidates": ",".join(scores["candidate"].unique()),
                            "seed": params["seed"]})  # fmt: skip
        tracker.log_data(table)
        tracker.log_environment()
        if report is not None:
            tracker.log_artifact(report)
        for candidate, rows in scores.groupby("candidate", sort=False):
            with tracker.run(
                str(candidate), tags=_tags("compare") | {"candidate": str(candidate)}, nested=True
            ):
                tracker.log_params({"candidate": candidate, "folds": folds})
                for protocol, part in rows.groupby("protocol", sort=False):
                    key = "cv" if protocol.startswith("stratified") else "temporal"
                    tracker.log_metrics(part[metric_columns].mean().to_dict(), prefix=f"{key}.")
                    if len(part) > 1:
                        tracker.log_metrics(part[metric_columns].std().to_dict(), prefix=f"{key}_std.")
    return tracker


def track_tune(
    params: Mapping[str, Any], table: pd.DataFrame, result: Mapping[str, Any], tracker: Tracker | None = None
) -> Tracker:
    """A `tune` run with one nested run per Optuna trial (its CV ROC-AUC, and its params when
    `result["history"]` carries them); the best params on the parent run."""
    tracker = tracker or Tracker(params)
    with tracker.run(f"tune {result['model']}", tags=_tags("tune")):
        tracker.log_params({"model": result["model"], "trials": result["trials"], "folds": result["folds"],
                            "best": result["params"]})  # fmt: skip
        tracker.log_data(table)
        tracker.log_environment()
        tracker.log_metrics({"best_cv_roc_auc": result["cv_roc_auc"]})
        for trial in result.get("history", []):
            with tracker.run(f"trial {trial['number']}", tags=_tags("tune"), nested=True):
                tracker.log_params({"trial": trial["number"], **trial.get("params", {})})
                if trial.get("value") is not None:
                    tracker.log_metrics({"cv_roc_auc": trial["value"]})
    return tracker
