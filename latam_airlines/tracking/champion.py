"""Champion/challenger retraining: train a challenger on new data, score it and the champion on
the same most recent holdout of that data, promote only a clear winner, log the decision.

Rule (params `retrain:`): the challenger is promoted when it beats the champion on the primary
metric (default ROC-AUC) by at least `margin`, and is not worse on the guard metric (default
Brier score, i.e. calibration) by more than `guard_tolerance`. With no champion yet, the
challenger is promoted. The registered challenger is exactly the model that was scored (fitted
on the new data's training part): promoting a refit that nobody scored would break the rule.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from latam_airlines.errors import InputError

# metric -> True when higher is better
METRICS: dict[str, bool] = {"roc_auc": True, "pr_auc": True, "log_loss": False, "brier": False}


def holdout_scores(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """The decision's metrics, from probabilities (threshold-free)."""
    probability = np.clip(np.asarray(probability, dtype=float), 1e-7, 1 - 1e-7)
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "log_loss": float(log_loss(y, probability, labels=[0, 1])),
        "brier": float(brier_score_loss(y, probability)),
    }


@dataclass
class Decision:
    promote: bool
    reason: str
    primary: str
    margin: float
    guard: str
    guard_tolerance: float
    challenger: dict[str, float]
    champion: dict[str, float] | None = None
    challenger_version: str | None = None
    champion_version: str | None = None
    holdout: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_line(self) -> str:
        verb = "PROMOTE" if self.promote else "KEEP"
        challenger = (
            f"challenger v{self.challenger_version or '?'} {self.primary} {self.challenger[self.primary]:.4f}"
        )
        challenger += f", {self.guard} {self.challenger[self.guard]:.4f}"
        if self.champion is None:
            return f"{verb}: {challenger}; no champion ({self.reason})"
        champion = f"champion v{self.champion_version} {self.primary} {self.champion[self.primary]:.4f}"
        champion += f", {self.guard} {self.champion[self.guard]:.4f}"
        return f"{verb}: {challenger} vs {champion} ({self.reason})"


def decide(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    primary: str = "roc_auc",
    margin: float = 0.002,
    guard: str = "brier",
    guard_tolerance: float = 0.002,
) -> tuple[bool, str]:
    """(promote?, why) by the rule of the module docstring."""
    for name in (primary, guard):
        if name not in METRICS:
            raise InputError(f"unknown metric {name!r}; expected one of {', '.join(METRICS)}", value=name)
    if champion is None:
        return True, "first champion"

    def better_by(name: str) -> float:  # positive: the challenger is better
        difference = challenger[name] - champion[name]
        return difference if METRICS[name] else -difference

    gain, guard_change = better_by(primary), better_by(guard)
    if gain < margin:
        return False, f"{primary} gain {gain:+.4f} < margin {margin}"
    if guard_change < -guard_tolerance:
        return False, f"{guard} worse by {-guard_change:.4f} > tolerance {guard_tolerance}"
    return (
        True,
        f"{primary} gain {gain:+.4f} >= margin {margin}; {guard} change {guard_change:+.4f} within tolerance",
    )


def retrain_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The `retrain:` section of a settings dict (`Settings.as_params()`)."""
    return dict(params["retrain"])


def retrain(
    processed: pd.DataFrame,
    params: Mapping[str, Any],
    train_options: Mapping[str, Any],
    tracker: Any = None,
    promote: bool = True,
    **rule: Any,
) -> Decision:
    """Train a challenger on `processed`, compare with the registry's champion, log and apply the
    decision (aliases `challenger` and, on a win, `champion`). Needs the registry (InputError
    when it cannot be reached). `rule` overrides params retrain (primary, margin, guard, ...).
    `promote=False` decides and logs without moving the champion alias."""
    from latam_airlines.models import TrainConfig, holdout_evaluation
    from latam_airlines.models.splits import holdout_split
    from latam_airlines.models.training_data import data_fingerprint, training_data
    from latam_airlines.tracking import registry
    from latam_airlines.tracking.runs import Tracker

    settings = retrain_settings(params) | {k: v for k, v in rule.items() if v is not None}
    tracker = tracker or Tracker(params, enabled=True)
    registry.client(tracker.settings)  # the registry is required: fail before training
    config = TrainConfig(**train_options)
    holdout = holdout_evaluation(processed, config)
    challenger_scores = holdout_scores(holdout.y_test, holdout.probability)

    champion_ref = registry.ModelRef(tracker.settings["registered_model"], alias=registry.CHAMPION)
    champion_scores, champion_version = None, registry.alias_version(registry.CHAMPION, tracker.settings)
    if champion_version is not None:
        with tempfile.TemporaryDirectory(prefix="latam_champion_") as folder:
            champion, champion_version, _ = registry.download_model(champion_ref, folder, tracker.settings)
        # As deployed, the champion gets the new data's outcomes through its feed (a day after),
        # as the challenger's history does in holdout_evaluation: the same information for both.
        _, y = training_data(processed, config.year)
        champion.record_outcomes(processed, y)
        _, test_rows = holdout_split(
            processed, config.split, config.test_months, config.test_size, config.seed
        )
        champion_probability = champion.predict_proba(processed.iloc[test_rows])
        champion_scores = holdout_scores(holdout.y_test, champion_probability)

    promote_it, reason = decide(
        challenger_scores, champion_scores, settings["primary"], float(settings["margin"]),
        settings["guard"], float(settings["guard_tolerance"]),
    )  # fmt: skip
    decision = Decision(
        promote=promote_it, reason=reason, primary=settings["primary"], margin=float(settings["margin"]),
        guard=settings["guard"], guard_tolerance=float(settings["guard_tolerance"]),
        challenger=challenger_scores, champion=champion_scores, champion_version=champion_version,
        holdout={"protocol": holdout.model.metrics.get("protocol"), "rows": int(len(holdout.y_test)),
                 "delay_rate": float(np.mean(holdout.y_test)), "data_rows": int(len(processed)),
                 "data_fingerprint": data_fingerprint(processed),
                 "data_source": str(processed.attrs.get("source") or "in-memory table")},
    )  # fmt: skip
    with tracker.run("retrain", tags={"latam.command": "retrain"}):
        tracker.log_params({"train": asdict(config), "retrain": settings})
        tracker.log_data(processed, "new")
        tracker.log_environment()
        tracker.log_metrics(challenger_scores, prefix="challenger.")
        if champion_scores:
            tracker.log_metrics(champion_scores, prefix="champion.")
        tracker.log_metrics(holdout.model.metrics, prefix="model.")
        decision.challenger_version = registry.log_delay_model(tracker, holdout.model)
        decision.run_id = tracker.run_id
        if decision.challenger_version is None:
            raise InputError("the challenger could not be registered (see the warning above)")
        tracker.set_tags({"decision": "promote" if promote_it else "keep", "decision.reason": reason,
                          "challenger_version": decision.challenger_version,
                          "champion_version": str(champion_version)})  # fmt: skip
        tracker.log_dict(decision.to_dict(), "decision.json")
    registry.set_alias(decision.challenger_version, registry.CHALLENGER, tracker.settings)
    if promote_it and promote:
        registry.set_alias(decision.challenger_version, registry.CHAMPION, tracker.settings)
        registry.cache_alias(registry.CHAMPION, tracker.settings)
    return decision


def write_decision(decision: Decision, path: str | Path) -> Path:
    from latam_airlines.io import write_text

    return write_text(json.dumps(decision.to_dict(), indent=2) + "\n", path)
