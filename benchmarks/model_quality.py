"""Reference model vs the project's chosen model, side by side on the same splits, and the
chosen model's probabilities under every feed regime.

The reference is the challenge's: XGBoost with scale_pos_weight on ten one-hot features
(data README). The chosen model is params.yaml's train section (model, features, balance,
calibration, stale_after_days; with the tuned params of `latam tune` when present). Both
follow the same protocol: calibration map and threshold fitted on out-of-fold probabilities of
the training part, metrics on the test part only (temporal: the last 2 months, Nov-Dec).

Feed regimes of the chosen model on the temporal holdout, side by side with calibration
metrics (Brier, log-loss, ECE, against always answering the observed base rate):
- fed daily: each test day's outcomes reach the recent-delay history a day later;
- fed 7 days late: they arrive a week late (the gap exceeds stale_after_days: stale tier);
- frozen: no feed after the training part (later flights go to the stale tier);
- minimal tier: only OPERA, TIPOVUELO, MES (fed daily, and frozen: days beyond
  stale_after_days go to the minimal_stale tier, 28-day rates only).
- intraday (1 h ahead): `features: intraday`, fed during the day (same-day delay rates of
  flights scheduled at least an hour before); one more training.

Usage: python benchmarks/model_quality.py [path/to/processed_table.csv]  (default: the shipped SCL 2017 table)
The last line is the ROC-AUC ratio chosen / reference on the temporal holdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from latam_airlines.datasets import SCL_FEATURES, SCL_RAW_SAMPLE
from latam_airlines.models import TrainConfig, holdout_evaluation
from latam_airlines.models.tune import load_tuned
from latam_airlines.settings import load_settings, resolve

DATA = SCL_FEATURES
METRICS = ("roc_auc", "pr_auc", "f1_delayed")


def main(path: Path = DATA) -> None:
    processed = pd.read_csv(path)
    settings = load_settings().as_params()
    train = settings["train"]
    tuned = (
        load_tuned(resolve(train["tuned_params"])).get(train["model"], {}) if train["tuned_params"] else {}
    )
    chosen = {"model": train["model"], "features": train["features"], "balance": train["balance"],
              "params": tuned, "calibration": train["calibration"],
              "stale_after_days": train["stale_after_days"]}  # fmt: skip
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
        if split == "temporal":
            metrics = dict(holdout.model.metrics)
            if chosen["features"] == "full":  # the intraday option: same protocol, its feature set
                intraday = holdout_evaluation(
                    processed, TrainConfig(**{**chosen, "features": "intraday"}, seed=settings["seed"])
                )
                metrics["holdout_intraday"] = intraday.model.metrics["holdout"]
            regimes(metrics)
        if split == "temporal":
            ratio = results["chosen"]["roc_auc"] / results["reference"]["roc_auc"]
            gain = results["chosen"]["roc_auc"] - results["reference"]["roc_auc"]
            target = gain >= 0.10 and results["chosen"]["f1_delayed"] >= 0.45
            print(
                f"target (ROC-AUC gain >= 0.10 and F1 >= 0.45 on the temporal holdout): {'met' if target else 'NOT met'}"
            )
    scoring_speed(holdout.model, SCL_RAW_SAMPLE)
    print(f"ROC-AUC ratio chosen/reference on the temporal holdout: {ratio:.3f}")


REGIMES = (
    ("fed daily", "holdout"),
    ("intraday (1 h ahead)", "holdout_intraday"),
    ("fed 7 days late", "holdout_feed_7_days_late"),
    ("frozen (no feed)", "holdout_without_feed"),
    ("minimal tier, fed", "holdout_minimal_fields"),
    ("minimal tier, frozen", "holdout_minimal_fields_without_feed"),
)


def regimes(metrics: dict) -> None:
    """The chosen model's test-part figures per feed regime, with calibration metrics."""
    print("\nchosen model by feed regime (Brier / log-loss base: always the observed delay rate)")
    print(
        f"{'regime':<22}{'ROC-AUC':>8}{'PR-AUC':>8}{'F1':>7}{'flagged':>8}{'Brier':>8}{'base':>8}"
        f"{'logloss':>8}{'base':>7}{'ECE':>7}{'mean p':>7}{'rate':>6}"
    )
    for label, key in REGIMES:
        if key not in metrics:
            continue
        m = metrics[key]
        print(
            f"{label:<22}{m['roc_auc']:>8.3f}{m['pr_auc']:>8.3f}{m['f1_delayed']:>7.3f}{m['flagged_share']:>8.2f}"
            f"{m['brier']:>8.4f}{m['brier_base_rate']:>8.4f}{m['log_loss']:>8.4f}{m['log_loss_base_rate']:>7.4f}"
            f"{m['ece']:>7.3f}{m['mean_probability']:>7.3f}{m['delay_rate']:>6.3f}"
        )
    tiers = metrics.get("holdout_without_feed", {}).get("tiers")
    if tiers:
        print(f"frozen: flights per tier {tiers} (stale after {metrics.get('stale_after_days', 'n')} days)")
    tiers = metrics.get("holdout_minimal_fields_without_feed", {}).get("tiers")
    if tiers:
        print(f"minimal tier, frozen: flights per tier {tiers}")
    print(f"thresholds per tier: {metrics.get('thresholds', {})}")


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
