"""Reference model vs the project's chosen model, side by side on the same splits.

The reference is the challenge's: XGBoost with scale_pos_weight on ten one-hot features
(data README). The chosen model is params.yaml's train.model/features/balance (with the tuned
params of `latam tune` when present). Both follow the same protocol: threshold picked on a
validation share of the training part, metrics on the test part only. The chosen model's
recent delay rates get the test part's outcomes a day after each day, as a deployed model fed
by `latam outcomes` would; its figures with that history frozen are printed too.

Usage: python benchmarks/model_quality.py [path/to/processed_table.csv]  (default: the shipped SCL 2017 table)
The last line is the ROC-AUC ratio chosen / reference on the temporal holdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from latam_airlines.config import load_params, resolve
from latam_airlines.datasets import SCL_FEATURES, SCL_RAW_SAMPLE
from latam_airlines.models import TrainConfig, holdout_evaluation
from latam_airlines.models.tune import load_tuned

DATA = SCL_FEATURES
METRICS = ("roc_auc", "pr_auc", "f1_delayed")


def main(path: Path = DATA) -> None:
    processed = pd.read_csv(path)
    settings = load_params()
    train = settings["train"]
    tuned = load_tuned(resolve(train.get("tuned_params") or "params_tuned.yaml")).get(train["model"], {})
    chosen = {"model": train["model"], "features": train.get("features", "full"),
              "balance": train.get("balance", "weight"), "params": tuned}  # fmt: skip
    print(f"data: {path} ({len(processed):,} flights); chosen: {chosen}")
    ratio = None
    for split in ("random", "temporal"):
        results = {}
        for name, options in (("reference", {"model": "reference"}), ("chosen", chosen)):
            started = time.perf_counter()
            holdout = holdout_evaluation(
                processed, TrainConfig(**options, split=split, seed=settings["seed"])
            )
            results[name] = holdout.model.metrics["holdout"]
            results[name]["seconds"] = time.perf_counter() - started
        print(f"\n{holdout.model.metrics['protocol']}, test rows {results['chosen']['rows']:,}")
        print(f"{'metric':<12}{'reference':>11}{'chosen':>9}{'ratio':>8}{'gain':>8}")
        for metric in METRICS:
            reference, ours = results["reference"][metric], results["chosen"][metric]
            print(
                f"{metric:<12}{reference:>11.3f}{ours:>9.3f}{ours / reference:>8.3f}{ours - reference:>+8.3f}"
            )
        print(
            f"{'fit seconds':<12}{results['reference']['seconds']:>11.1f}{results['chosen']['seconds']:>9.1f}"
        )
        frozen = holdout.model.metrics.get("holdout_without_feed")
        if frozen:  # the same rows, recent-delay history frozen at the end of the training part
            print(
                "chosen without the daily outcome feed: "
                + ", ".join(f"{metric} {frozen[metric]:.3f}" for metric in METRICS)
            )
        if split == "temporal":
            ratio = results["chosen"]["roc_auc"] / results["reference"]["roc_auc"]
            gain = results["chosen"]["roc_auc"] - results["reference"]["roc_auc"]
            target = gain >= 0.10 and results["chosen"]["f1_delayed"] >= 0.45
            print(
                f"target (ROC-AUC gain >= 0.10 and F1 >= 0.45 on the temporal holdout): {'met' if target else 'NOT met'}"
            )
    scoring_speed(holdout.model, SCL_RAW_SAMPLE)
    print(f"ROC-AUC ratio chosen/reference on the temporal holdout: {ratio:.3f}")


def scoring_speed(model, raw_path: Path) -> None:
    """Median wall time of predict_proba on API-style records (the API's hot path)."""
    if not raw_path.exists():
        return
    raw = pd.read_csv(raw_path).head(1000)
    full = raw.astype(object).where(raw.notna(), None).to_dict("records")
    minimal = [{field: record[field] for field in ("OPERA", "TIPOVUELO", "MES")} for record in full]
    print("\nscoring speed of the chosen model (median of repeated calls, one thread):")
    for label, records, repeats in (
        ("1,000 raw records", full, 30), ("1,000 minimal records", minimal, 30),
        ("1 raw record", full[:1], 300), ("1 minimal record", minimal[:1], 300),
    ):  # fmt: skip
        model.predict_proba(records)
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            model.predict_proba(records)
            timings.append(time.perf_counter() - started)
        print(f"  {label:<22}{sorted(timings)[len(timings) // 2] * 1000:8.2f} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
