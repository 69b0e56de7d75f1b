"""The training protocol: fit a DelayModel on a processed feature table, with an honest
holdout evaluation.

Protocol of `train` (every number it reports comes from rows the model did not fit):
1. split the table (models/splits.py): temporal (default: the last 2 months present are the
   test part, Nov–Dec on the SCL 2017 table; the last third of the days for short tables),
   fixed calendar months, or stratified random;
2. inside the training part, every row gets an out-of-fold probability: `threshold_folds` (5)
   stratified folds, each scored by a model fitted on the others (with `threshold_folds` 1:
   one stratified `validation_share`). On them an isotonic map is fitted (the calibration:
   raw score -> observed delay rate) and the decision threshold (max F1 of the delayed class)
   is picked on the calibrated values; the model is then refitted on the whole training part
   (the stale tiers' folds hold out whole months, their map and threshold aim at the training
   part's last weeks: `aim_at_level`);
3. the test part is scored once -> `metrics["holdout"]`. With `outcome_feed` (default) the
   test part's outcomes reach the recent-delay history as a deployed model gets them, a day
   after: a flight's recent rates count days strictly before its own, never its own day.
   `holdout_without_feed` scores the same rows with the history frozen at the end of the
   training part (flights more than `stale_after_days` after it go to the stale tier),
   `holdout_feed_7_days_late` with a feed a week late; the scoring copy is thrown away, so
   the returned model's history ends with the training part;
4. with `refit_full` (default) the artifact is refitted on every row, keeping thresholds and
   calibration maps.
Every tier (full, stale, minimal: see feed_tiers.py) follows the same protocol.
Defaults come from the settings' train section (`latam_airlines.settings`: params.yaml, then
LATAM_TRAIN__* variables), so the library, the CLI and `dvc repro` train the same model.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, StratifiedKFold

from latam_airlines.errors import InputError
from latam_airlines.features.canonical import INPUT_FIELDS
from latam_airlines.features.feature_sets import fields_of
from latam_airlines.models.artifact import DelayModel, build_artifact
from latam_airlines.models.calibration import calibrate, fit_calibration
from latam_airlines.models.feed_tiers import TieredClassifier
from latam_airlines.models.metrics import best_f1_threshold, classification_metrics
from latam_airlines.models.parallel_fit import FitJob, one_native_thread, run_fits
from latam_airlines.models.pipelines import check_model, outcome_history_step, record_schedule
from latam_airlines.models.splits import describe_test_part, holdout_split, validation_split
from latam_airlines.models.threshold_rules import LEVEL_DAYS, fit_level_rule, rule_thresholds
from latam_airlines.models.training_data import training_data
from latam_airlines.settings import setting

FEATURE_CHOICES: tuple[str, ...] = (
    "full",
    "static",
    "congestion",
    "history",
    "base",
    "full_with_month",
    "catboost",
    "intraday",
    "static_schedule",
    "full_schedule",
    "intraday_schedule",
)


CALIBRATIONS: tuple[str, ...] = ("isotonic", "none")
MINIMAL_MAX_FLAGGED = 0.4  # share of training flights the minimal tiers may label delayed
# ... at every level: their thresholds follow SCL's recent delay rate (models/threshold_rules.py),
# as their probabilities do. The product rule: a minimal label means "clearly more likely than
# most". 0.4 rather than 0.5: with the steady floor, the backtests' minimal F1 stays within one
# standard error of the best rule measured and fewest flights are flagged (tenth pass). A fixed
# cap within every training month followed the highest month (July) and Nov-Dec flagged 23 %
# (F1 0.363) (reports/model_selection.md, seventh, eighth and tenth passes).
# Feature sets of the minimal record: months as categories, whole months held out out of fold,
# the flagged share capped (fit_with_threshold); minimal_stale answers once the feed stopped.
MINIMAL_SETS: tuple[str, ...] = ("minimal", "minimal_stale")
# Feature set of the stale tier (scored when the outcome feed stopped): the same fields
# without recent delay rates. `stale_schedule` adds a second stale tier with the planned-schedule
# counts (STALE_SCHEDULE_FEATURES) for the stale flights of days in its schedule book; the plain
# stale tier keeps the unbooked days (a deployment that publishes no schedule: `latam schedule`,
# POST /schedule), where the counts would read "a typical day" (reports/model_selection.md,
# fifth and ninth passes).
STALE_FEATURES: dict[str, str] = {
    "full": "static", "full_with_month": "static", "catboost": "static", "intraday": "static",
    "full_schedule": "static_schedule", "intraday_schedule": "static_schedule",
}  # fmt: skip
STALE_SCHEDULE_FEATURES = "static_schedule"
STALE_TIERS: tuple[str, ...] = ("stale", "stale_schedule")


# The stale tier answers once the feed has stopped, for flights after the training part: its
# calibration map aims at the delay rate of the training part's last STALE_LEVEL_DAYS days, not
# at the whole part's (a prior shift of the odds, fixed at fit time). Chosen on the Jul-Aug /
# Sep-Oct backtests (reports/model_selection.md, eighth pass); 14, 42 and 56 days calibrated
# Sep-Oct worse. Its threshold follows that level (`aim_at_level`), and its calibration and
# threshold are fitted on rows scored with their whole month held out, which rank like the days
# it answers (ROC-AUC 0.66-0.67 there against 0.69-0.70 with random folds): tenth pass.
STALE_LEVEL_DAYS = 28


@dataclass
class TrainConfig:
    """Everything that defines a trained model; stored in the artifact's metadata.
    A field not given is the settings' train entry of the same name (the seed: the top-level
    seed), read when the config is made; `params` (model hyperparameters) defaults to none."""

    model: str = setting("train", "model")
    features: str = setting("train", "features")
    balance: str = setting("train", "balance")
    params: dict[str, Any] = field(default_factory=dict)
    split: str = setting("train", "split")
    last_months: int = setting("train", "last_months")
    test_months: list[int] = setting("train", "test_months")
    test_size: float = setting("train", "test_size")
    validation_share: float = setting("train", "validation_share")
    threshold_folds: int = setting("train", "threshold_folds")
    seed: int = setting("seed")
    year: int | None = setting("train", "year")
    refit_full: bool = setting("train", "refit_full")
    outcome_feed: bool = setting("train", "outcome_feed")
    calibration: str = setting("train", "calibration")
    stale_after_days: int | None = setting("train", "stale_after_days")
    stale_schedule: bool = setting("train", "stale_schedule")


@dataclass
class Holdout:
    """A model fitted on the training part, and its test-part predictions."""

    model: DelayModel
    test_inputs: pd.DataFrame
    y_test: np.ndarray
    probability: np.ndarray
    # (probability, threshold, tier) per row, every row scored as a minimal record
    minimal_probability: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    frozen_probability: np.ndarray | None = None  # history frozen at the training part's end
    frozen_minimal_probability: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    late_probability: np.ndarray | None = None  # outcomes fed LATE_FEED_DAYS days late
    fed_pipeline: Any = None  # the scoring copy whose history holds the test part's outcomes
    # per stale tier, fit_with_threshold's `out_of_fold` (train() aims them at the served level)
    stale_out_of_fold: dict[str, dict[str, Any]] = field(default_factory=dict)


def _tiers(config: TrainConfig) -> dict[str, str]:
    """tier -> feature set. The reference model reads only the minimal fields: one tier.
    A full set with recent rates gets a stale tier, and the minimal tier (recent rates) its
    minimal_stale tier, unless `stale_after_days` is None."""
    if config.model == "reference":
        return {"minimal": "reference"}
    tiers = {"full": config.features}
    if config.features in STALE_FEATURES and config.stale_after_days is not None:
        tiers["stale"] = STALE_FEATURES[config.features]
        if config.stale_schedule and tiers["stale"] != STALE_SCHEDULE_FEATURES:
            tiers["stale_schedule"] = STALE_SCHEDULE_FEATURES  # booked days; others: "stale"
    tiers["minimal"] = "minimal"
    if config.stale_after_days is not None:
        tiers["minimal_stale"] = "minimal_stale"
    return tiers


def _tier_params(config: TrainConfig, feature_set: str) -> dict[str, Any]:
    """The minimal tier sees at most a few hundred distinct (OPERA, TIPOVUELO, MES) records:
    150 trees are plenty there, and keep training on large tables fast."""
    if feature_set in MINIMAL_SETS and config.model in ("xgb", "lgbm", "rf"):
        return {**config.params, "n_estimators": 150}
    return config.params


def fit_with_threshold(
    inputs: pd.DataFrame,
    y: np.ndarray,
    config: TrainConfig,
    feature_set: str,
    on_step: Callable[[str], None] | None = None,
    unseen_months: bool = True,
    stale_level: tuple[float, float] | None = None,
    out_of_fold: dict[str, Any] | None = None,
    fitted: list[Any] | None = None,
) -> tuple[Any, float, tuple[np.ndarray, np.ndarray] | None, dict[str, Any] | None]:
    """(pipeline, threshold, calibration knots, threshold rule): the calibration map and the
    threshold are fitted on validation rows scored by pipelines fitted without them (the
    threshold on the calibrated values); then the pipeline is refitted on every given row (the
    validation rows are too valuable to drop). The minimal tiers get a rule (their threshold
    follows the level, models/threshold_rules.py; `threshold` is then the rule's at the level
    of the history's end), other tiers None.

    Why out-of-fold by default: one 20 % share leaves the F1-optimal cut-off noisy (it moved
    F1 by up to 0.005 between near-identical models); pooling every row's out-of-fold
    probability steadies it (+0.002 F1 on the Jul-Aug and Sep-Oct backtests, logreg).

    A stale tier (`stale_level`: the training rows' delay rate, the rate it aims at) answers days
    it has never seen: its folds hold out whole months, its map and threshold aim at the target
    rate (`aim_at_level`). `out_of_fold`, if given, receives the raw out-of-fold probabilities,
    their labels and the unshifted map (the served artifact aims them again: `train`).
    `fitted`: the results of `threshold_jobs` of the same arguments, when already run (train
    runs every tier's fits in one batch); else they run here, on the settings' train.n_jobs.
    """
    if fitted is None:
        jobs = threshold_jobs(inputs, y, config, feature_set, unseen_months, stale=stale_level is not None)
        fitted = run_fits(jobs, _cores(None), on_step)
    *folds, pipeline = fitted
    scored = np.concatenate([fold.rows for fold in folds])
    probability = np.concatenate([fold.probability for fold in folds])
    levels = [fold.level for fold in folds if fold.level is not None]
    knots = fit_calibration(probability, y[scored]) if config.calibration == "isotonic" else None
    if out_of_fold is not None:
        out_of_fold.update(probability=probability, y=y[scored], knots=knots)
    if stale_level is not None:
        knots, threshold = aim_at_level(probability, y[scored], knots, *stale_level)
        return pipeline, threshold, knots, None
    if feature_set not in MINIMAL_SETS:
        return pipeline, best_f1_threshold(y[scored], calibrate(probability, knots)), knots, None
    # The minimal tier ranks weakly (ROC-AUC ~0.61): its unconstrained F1 optimum sits near
    # "everything is delayed" (92 % flagged before), which tells a user nothing; its label means
    # "clearly more likely than most", at most MINIMAL_MAX_FLAGGED of the training flights at
    # any level; its F1 curve is flat near the top, so the steady cut-off (highest within one
    # standard error of the best F1: metrics.steady_f1_cutoff), not the argmax.
    if not levels:  # no recent rates (the reference model): a fixed threshold under the cap
        return (
            pipeline,
            best_f1_threshold(y[scored], calibrate(probability, knots), MINIMAL_MAX_FLAGGED, steady=True),
            knots,
            None,
        )
    rule = fit_level_rule(
        y[scored], calibrate(probability, knots), np.concatenate(levels), MINIMAL_MAX_FLAGGED
    )
    level_now = outcome_history_step(pipeline).scl_recent_rate(pd.DataFrame(index=[0]), LEVEL_DAYS)
    return pipeline, float(rule_thresholds(rule, level_now)[0]), knots, rule


def recent_rate(inputs: pd.DataFrame, y: np.ndarray, year: int | None = None) -> float:
    """Delay rate of the flights of the last STALE_LEVEL_DAYS days of (inputs, y) (all rows'
    when none is dated), kept inside [0.01, 0.99] so its odds stay finite."""
    from latam_airlines.features.canonical import DEFAULT_YEAR
    from latam_airlines.features.transformers import FlightFeatures

    days = FlightFeatures(year=year or DEFAULT_YEAR).flight_days(inputs)
    recent = days > np.nanmax(days) - STALE_LEVEL_DAYS if (~np.isnan(days)).any() else np.ones(len(y), bool)
    return float(np.clip(np.mean(y[recent]), 0.01, 0.99))


def aim_at_level(
    probability: np.ndarray,
    y: np.ndarray,
    knots: tuple[np.ndarray, np.ndarray] | None,
    rate: float,
    target: float,
) -> tuple[tuple[np.ndarray, np.ndarray] | None, float]:
    """(knots, threshold) of a stale tier aimed at the delay rate `target` from out-of-fold
    (raw probability, label) rows whose rate is `rate`: the map shifted (`shift_level`) and the
    threshold maximising F1 of those rows weighted as they would be at `target` (delayed
    target / rate, on time (1 - target) / (1 - rate): a prior shift keeps each class's scores).
    The F1 optimum moves with the level (a higher rate: more flights worth flagging); keeping
    the fitted labels instead (the threshold shifted with the odds) flagged 29 % of Jul-Aug's
    stale days at a 24 % delay rate (reports/model_selection.md, tenth pass)."""
    if knots is not None:
        knots = shift_level(knots, None, rate, target)[0]
    weights = np.where(np.asarray(y) == 1, target / rate, (1 - target) / (1 - rate))
    return knots, best_f1_threshold(y, calibrate(probability, knots), sample_weight=weights)


def shift_level(
    knots: tuple[np.ndarray, np.ndarray], threshold: float | None, rate: float, target: float
) -> tuple[tuple[np.ndarray, np.ndarray], float | None]:
    """(knots, threshold) with every calibrated probability's odds multiplied by
    odds(target) / odds(rate): the prior shift from a delay rate `rate` to `target` (Saerens et
    al. 2002). Monotone, so the ranking is kept; the threshold moves with the probabilities and
    becomes a knot first (the map is straight lines between knots, the shift is not), so every
    label is kept too. Without a threshold (None) only the map moves."""
    factor = (target / (1 - target)) / (rate / (1 - rate))
    raw, calibrated = knots  # calibrated values strictly increase (fit_calibration)
    if threshold is not None and calibrated[0] < threshold < calibrated[-1]:
        at = float(np.interp(threshold, calibrated, raw))
        position = int(np.searchsorted(raw, at))
        if position == len(raw) or raw[position] != at:
            raw, calibrated = np.insert(raw, position, at), np.insert(calibrated, position, threshold)

    def shifted(probability: np.ndarray) -> np.ndarray:
        odds = np.asarray(probability, dtype=float) / (1 - np.asarray(probability, dtype=float))
        return odds * factor / (1 + odds * factor)

    return (raw, shifted(calibrated)), None if threshold is None else float(shifted(threshold))


def _step(on_step: Callable[[str], None] | None, message: str) -> None:
    """Name the step about to run (the CLI shows it; long fits are minutes on big tables)."""
    if on_step is not None:
        on_step(message)


def _assemble(
    pipelines: dict[str, Any],
    thresholds: dict[str, float],
    knots: dict[str, Any],
    config: TrainConfig,
    rules: dict[str, Any],
) -> TieredClassifier:
    full_fields = fields_of(config.features) if "full" in pipelines else []
    switches = "stale" in pipelines or "minimal_stale" in pipelines
    return TieredClassifier(
        full=pipelines.get("full"),
        minimal=pipelines.get("minimal"),
        stale=pipelines.get("stale"),
        minimal_stale=pipelines.get("minimal_stale"),
        stale_schedule=pipelines.get("stale_schedule"),
        full_fields=full_fields,
        thresholds=dict(thresholds),
        calibration={tier: value for tier, value in knots.items() if value is not None},
        stale_after_days=config.stale_after_days if switches else None,
        threshold_rules={tier: rule for tier, rule in rules.items() if rule is not None} or None,
    )


def _check_config(config: TrainConfig) -> None:
    check_model(config.model)
    if config.calibration not in CALIBRATIONS:
        raise InputError(
            f"unknown calibration {config.calibration!r}; expected one of {', '.join(CALIBRATIONS)}",
            value=config.calibration,
        )
    if config.features not in FEATURE_CHOICES:
        raise InputError(
            f"unknown feature set {config.features!r}; expected one of {', '.join(FEATURE_CHOICES)}",
            value=config.features,
        )


def threshold_jobs(
    inputs: pd.DataFrame,
    y: np.ndarray,
    config: TrainConfig,
    feature_set: str,
    unseen_months: bool = True,
    rows: str = "the training part",
    stale: bool = False,
) -> list[FitJob]:
    """The fits of `fit_with_threshold`: one per out-of-fold fold, then the refit on every
    given row (last); `rows` names the given rows in their labels; `stale`: a stale tier's
    (folds of whole months, as the minimal tiers')."""
    months = pd.to_numeric(inputs["MES"], errors="coerce").to_numpy()
    if (
        unseen_months
        and (feature_set in MINIMAL_SETS or stale)
        and config.threshold_folds > 1
        and len(np.unique(months)) >= 2
    ):
        # The minimal tier knows months as categories: on the temporal holdout the months to
        # predict are unseen, so each fold holds out whole months and calibration and threshold
        # fit that. The artifact refitted on every month sees them all (train() refits these).
        folds = GroupKFold(min(config.threshold_folds, len(np.unique(months))))
        splits = list(folds.split(inputs, y, groups=months))
    elif config.threshold_folds > 1:
        folds = StratifiedKFold(config.threshold_folds, shuffle=True, random_state=config.seed)
        splits = list(folds.split(inputs, y))
    else:
        splits = [validation_split(y, config.validation_share, config.seed)]
    jobs = [
        _fit_job(
            f"{feature_set} features: fold {fold}/{len(splits)} of {rows}", inputs, y, config, feature_set
        )
        for fold in range(1, len(splits) + 1)
    ]
    for job, (fit_rows, validation_rows) in zip(jobs, splits):
        job.fit_rows, job.scored_rows = fit_rows, validation_rows
        job.levels = feature_set in MINIMAL_SETS  # the level each row reads (their threshold rule)
    return [*jobs, _fit_job(f"{feature_set} features: refit on {rows}", inputs, y, config, feature_set)]


def _fit_job(
    label: str, inputs: pd.DataFrame, y: np.ndarray, config: TrainConfig, feature_set: str
) -> FitJob:
    """A fit of `feature_set` on every row of (inputs, y), with the config's model settings."""
    params = _tier_params(config, feature_set)
    return FitJob(
        label, inputs, y, config.model, feature_set, config.balance, params, config.seed, config.year
    )


def _cores(n_jobs: int | None) -> int:
    """Cores the protocol's fits run on: `n_jobs`, else the settings' train.n_jobs (-1: every
    core)."""
    from latam_airlines.parallel import cores
    from latam_airlines.settings import current

    return cores(current().train.n_jobs if n_jobs is None else n_jobs)


def _run_jobs(
    jobs: dict[Any, list[FitJob]], n_jobs: int | None, on_step: Callable[[str], None] | None
) -> dict[Any, list[Any]]:
    """Every group's jobs run as one batch (the cores stay busy to the end); results by group."""
    results = iter(run_fits([job for group in jobs.values() for job in group], _cores(n_jobs), on_step))
    return {name: [next(results) for _ in group] for name, group in jobs.items()}


def _holdout_parts(processed: pd.DataFrame, config: TrainConfig) -> tuple[pd.DataFrame, np.ndarray, Any, Any]:
    """(inputs, y, training rows, test rows) of the protocol's split."""
    inputs, y = training_data(processed, config.year)
    train_rows, test_rows = holdout_split(
        processed, config.split, config.test_months, config.test_size, config.seed,
        last_months=config.last_months, year=config.year,
    )  # fmt: skip
    return inputs, y, train_rows, test_rows


def _holdout_jobs(
    train_inputs: pd.DataFrame, train_y: np.ndarray, config: TrainConfig
) -> dict[str, list[FitJob]]:
    """Every tier's `threshold_jobs` on the training part: the fits of `holdout_evaluation`
    (the stale tiers' folds hold out whole months, as `fit_with_threshold`'s `stale_level`)."""
    return {
        tier: threshold_jobs(train_inputs, train_y, config, feature_set, stale=tier in STALE_TIERS)
        for tier, feature_set in _tiers(config).items()
    }


def _every_row_jobs(inputs: pd.DataFrame, y: np.ndarray, config: TrainConfig) -> dict[str, list[FitJob]]:
    """The refits of `train` on every row: the minimal tiers' `threshold_jobs` (their
    calibration and threshold are fitted again, months seen), one fit for the other tiers."""
    return {
        tier: threshold_jobs(inputs, y, config, feature_set, unseen_months=False, rows="every row")
        if feature_set in MINIMAL_SETS
        else [_fit_job(f"{feature_set} features: refit on every row", inputs, y, config, feature_set)]
        for tier, feature_set in _tiers(config).items()
    }


@one_native_thread
def holdout_evaluation(
    processed: pd.DataFrame,
    config: TrainConfig,
    on_step: Callable[[str], None] | None = None,
    n_jobs: int | None = None,
    fitted: dict[str, list[Any]] | None = None,
) -> Holdout:
    """Steps 1–3 of the protocol: fit on the training part, score the test part. The test
    part's labels, probabilities and permutation importance stay in the model's `evidence`,
    so `evaluate` reports them without fitting again. The fits run on `n_jobs` cores (default:
    the settings' train.n_jobs; the model does not depend on it), unless `fitted` holds the
    results of its fits already (train runs them with its refits: `_holdout_jobs`)."""
    _check_config(config)
    inputs, y, train_rows, test_rows = _holdout_parts(processed, config)
    train_inputs, train_y = inputs.iloc[train_rows], y[train_rows]
    if fitted is None:
        fitted = _run_jobs(_holdout_jobs(train_inputs, train_y, config), n_jobs, on_step)
    tiers = _tiers(config)
    level, out_of_fold = None, {}
    if "stale" in tiers:  # the stale tiers aim at the training part's last weeks
        level = {"days": STALE_LEVEL_DAYS, "training_rate": float(train_y.mean())}
        level["recent_rate"] = recent_rate(train_inputs, train_y, config.year)
    pipelines, thresholds, knots, rules = {}, {}, {}, {}
    for tier, feature_set in tiers.items():
        aim = (level["training_rate"], level["recent_rate"]) if tier in STALE_TIERS else None
        pipelines[tier], thresholds[tier], knots[tier], rules[tier] = fit_with_threshold(
            train_inputs, train_y, config, feature_set, on_step,
            stale_level=aim, out_of_fold=out_of_fold.setdefault(tier, {}) if aim else None,
            fitted=fitted[tier],
        )  # fmt: skip
    classifier = _assemble(pipelines, thresholds, knots, config, rules)
    model = _artifact(classifier, inputs, config, processed, metrics={})
    test_inputs = inputs.iloc[test_rows]
    for tier in pipelines.values():  # the test part's schedule is known ahead (no outcome)
        record_schedule(tier, test_inputs)
    probability = frozen = classifier.predict_proba(test_inputs)[:, 1]
    minimal = frozen_minimal = None
    if "full" in pipelines:  # the same rows as minimal records (frozen: stale days switch)
        minimal = frozen_minimal = classifier.decide(test_inputs, minimal_only=True)
    extra: dict[str, Any] = {"thresholds": thresholds}
    if config.outcome_feed and model.outcomes_until is not None:
        # Every day's departures, the test part's included, on a copy (the returned model's
        # history ends with the training part): a flight only sees days before its own.
        fed = copy.deepcopy(classifier)
        for step in _history_steps(fed):
            step.record_outcomes(inputs, y)
        probability = fed.predict_proba(test_inputs)[:, 1]
        if minimal is not None:
            minimal = fed.decide(test_inputs, minimal_only=True)
        extra["late"] = _late_feed(fed, test_inputs, LATE_FEED_DAYS)
        extra["fed"] = fed
    holdout = Holdout(model, test_inputs, y[test_rows], probability, minimal, frozen)
    holdout.stale_out_of_fold = out_of_fold
    holdout.frozen_minimal_probability = frozen_minimal
    holdout.late_probability = extra.get("late")
    holdout.fed_pipeline = extra.get("fed")
    test_part = describe_test_part(processed, test_rows, config.year)
    model.metrics = holdout_metrics(holdout, thresholds, len(train_rows), config, test_part)
    if level is not None:
        model.metrics["stale_level"] = level
    _step(on_step, "permutation importance on the holdout")
    model.evidence = holdout_evidence(holdout, test_part, _cores(n_jobs))
    return holdout


def holdout_evidence(holdout: Holdout, period: str = "", n_jobs: int = 1) -> dict[str, Any]:
    """What the holdout showed, kept in the artifact: each test flight's label, probability and
    decision (as scored, fed daily when the feed is on) and the fields' permutation importance
    (scored on `n_jobs` cores)."""
    from latam_airlines.models.importance import permutation_importance

    scored = holdout.fed_pipeline if holdout.fed_pipeline is not None else holdout.model.pipeline
    classifier = holdout.model.pipeline
    tier = np.where(classifier.full_rows(holdout.test_inputs), "full", "minimal")
    thresholds = np.array([classifier.thresholds.get(name, holdout.model.threshold) for name in tier])
    importance = permutation_importance(
        functools.partial(_delay_probability, scored), holdout.test_inputs, holdout.y_test,
        holdout.model.features, repeats=IMPORTANCE_REPEATS, n_jobs=n_jobs,
    )  # fmt: skip
    return {
        "y": holdout.y_test.astype(np.int8),
        "probability": np.asarray(holdout.probability, dtype=np.float32),
        "decision": (holdout.probability >= thresholds).astype(np.int8),
        "importance": importance.to_dict("list"),
        "protocol": holdout.model.metrics["protocol"],
        "period": period,
    }


IMPORTANCE_REPEATS = 3  # shuffles per field for the holdout's permutation importance


def _delay_probability(classifier: TieredClassifier, frame: pd.DataFrame) -> np.ndarray:
    return classifier.predict_proba(frame)[:, 1]


LATE_FEED_DAYS = 7  # the benchmark's "fed a week late" scenario


def _history_steps(classifier: TieredClassifier) -> list[Any]:
    tiers = [getattr(classifier, tier, None) for tier in ("full", "minimal", "minimal_stale")]
    return [step for step in map(outcome_history_step, tiers) if step is not None]


def _late_feed(fed: TieredClassifier, test_inputs: pd.DataFrame, late_days: int) -> np.ndarray:
    """Probabilities when each day's outcomes arrive `late_days` days late: recent rates
    count days up to `late_days` + 1 before the flight's, and the tier follows the gap."""
    step = fed.history_step()
    step.lag_days_ = late_days
    try:
        probability = fed.tier_probability("full", test_inputs)
    finally:
        del step.lag_days_
    if fed.stale is not None and late_days + 1 > fed.stale_after_days:
        tier = fed.stale_tiers(test_inputs)
        for name in set(tier.tolist()):
            rows = np.flatnonzero(tier == name)
            probability[rows] = fed.tier_probability(name, test_inputs.iloc[rows])
    return probability


def holdout_metrics(
    holdout: Holdout, thresholds: dict[str, float], train_rows: int, config: TrainConfig, test_part: str = ""
) -> dict:
    if config.split == "temporal":
        rule = f"last {config.last_months} months present, else the last {config.test_size:.0%} of days"
    elif config.split == "months":
        rule = f"test months {config.test_months}"
    else:
        rule = f"{config.test_size:.0%}"
    classifier = holdout.model.pipeline
    full_threshold = thresholds.get("full", thresholds.get("minimal"))
    metrics: dict[str, Any] = {
        "protocol": f"{config.split} holdout ({rule})" + (f", test {test_part}" if test_part else ""),
        "train_rows": int(train_rows),
        "thresholds": {tier: float(value) for tier, value in thresholds.items()},
        "threshold_rules": dict(classifier.threshold_rules or {}),
        "stale_after_days": config.stale_after_days if classifier.stale is not None else None,
        "holdout": _tier_metrics(holdout.y_test, holdout.probability, classifier, holdout.test_inputs, full_threshold),
    }  # fmt: skip
    if holdout.model.outcomes_until is not None:
        metrics["outcome_feed"] = config.outcome_feed
        metrics["holdout_without_feed"] = _tier_metrics(
            holdout.y_test, holdout.frozen_probability, classifier, holdout.test_inputs, full_threshold,
            frozen=True,
        )  # fmt: skip
        late = holdout.late_probability
        if late is not None:
            late_tier = np.full(len(late), "full", dtype=object)
            if classifier.stale is not None and config.stale_after_days < LATE_FEED_DAYS + 1:
                late_tier = classifier.stale_tiers(holdout.test_inputs)
            metrics[f"holdout_feed_{LATE_FEED_DAYS}_days_late"] = classification_metrics(
                holdout.y_test, late, np.array([thresholds[tier] for tier in late_tier])
            )
    if holdout.minimal_probability is not None:
        metrics["holdout_minimal_fields"] = _minimal_metrics(holdout.y_test, holdout.minimal_probability)
        frozen_minimal = holdout.frozen_minimal_probability
        if frozen_minimal is not None and holdout.model.outcomes_until is not None:
            metrics["holdout_minimal_fields_without_feed"] = _minimal_metrics(holdout.y_test, frozen_minimal)
    return metrics


def _minimal_metrics(y: np.ndarray, decided: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, Any]:
    """classification_metrics of the rows scored as minimal records, each labelled at its
    tier's threshold (minimal, or minimal_stale on days beyond the stale switch)."""
    probability, threshold, tier = decided
    metrics = classification_metrics(y, probability, threshold)
    metrics["tiers"] = {str(name): int(count) for name, count in zip(*np.unique(tier, return_counts=True))}
    return metrics


def _tier_metrics(
    y: np.ndarray, probability: np.ndarray, classifier: TieredClassifier, inputs: pd.DataFrame,
    default_threshold: float, frozen: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """classification_metrics with each row labelled at its own tier's threshold (the fed
    holdout routes every row to the full tier; frozen, later days go to the stale tier)."""
    tier = classifier.route(inputs) if frozen else np.where(classifier.full_rows(inputs), "full", "minimal")
    thresholds = np.array([(classifier.thresholds or {}).get(t, default_threshold) for t in tier])
    metrics = classification_metrics(y, probability, thresholds)
    metrics["threshold"] = float(default_threshold)
    metrics["tiers"] = {str(name): int(count) for name, count in zip(*np.unique(tier, return_counts=True))}
    return metrics


def _artifact(
    classifier: TieredClassifier,
    inputs: pd.DataFrame,
    config: TrainConfig,
    processed: pd.DataFrame,
    metrics: dict,
) -> DelayModel:
    """The artifact of a trained classifier; `features`: every field one of its tiers reads."""
    tiers = _tiers(config)
    features = [f for f in INPUT_FIELDS if f in set(fields_of(config.features)) | set(fields_of("minimal"))]
    if config.model == "reference":
        features = fields_of("reference")
    for tier in STALE_TIERS:  # the stale tiers' fields are a subset of the full tier's
        if tier in tiers:
            features = [f for f in INPUT_FIELDS if f in set(features) | set(fields_of(tiers[tier]))]
    return build_artifact(
        classifier, inputs, processed, features, asdict(config), tiers.get("stale"), metrics
    )


@one_native_thread
def train(
    processed: pd.DataFrame,
    model: str | None = None,
    seed: int | None = None,
    on_step: Callable[[str], None] | None = None,
    n_jobs: int | None = None,
    **options: Any,
) -> DelayModel:
    """Fit `model` on the processed table and return a DelayModel (see the module docstring).

    Whatever is not given comes from the settings' train section (params.yaml: model logreg,
    features full, temporal split on the last 2 months, ...) through TrainConfig.
    options: any TrainConfig field (features, balance, params, split, last_months, test_months,
    test_size, validation_share, threshold_folds, year, refit_full, outcome_feed, calibration,
    stale_after_days). `on_step(message)` is told each fit as it finishes (folds, refits) and
    each later step as it starts. The fits run on `n_jobs` cores (default: the settings'
    train.n_jobs); the model is the same whatever their number.
    """
    unknown = sorted(set(options) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise InputError(f"unknown training option(s) {', '.join(unknown)}", value=unknown[0])
    if model is not None:
        options["model"] = model
    if seed is not None:
        options["seed"] = seed
    config = TrainConfig(**options)
    _check_config(config)
    inputs, y, train_rows, _ = _holdout_parts(processed, config)
    jobs = {
        ("holdout", tier): group
        for tier, group in _holdout_jobs(inputs.iloc[train_rows], y[train_rows], config).items()
    }
    if config.refit_full:  # every fit of the protocol in one batch: the cores stay busy to the end
        jobs.update(
            {("every row", tier): group for tier, group in _every_row_jobs(inputs, y, config).items()}
        )
    fitted = _run_jobs(jobs, n_jobs, on_step)
    holdout = holdout_evaluation(
        processed,
        config,
        on_step,
        fitted={tier: group for (part, tier), group in fitted.items() if part == "holdout"},
    )
    if not config.refit_full:
        return holdout.model  # its history ends with the training part (the test part unseen)
    classifier = holdout.model.pipeline
    for tier, feature_set in _tiers(config).items():
        if feature_set in MINIMAL_SETS and tier in classifier.thresholds:
            # Served, the minimal tiers score months they have seen: calibration and threshold
            # fitted with whole months held out would overshoot them (July 0.69 for an observed
            # 0.35), so they are fitted again on out-of-fold scores of every row, months seen.
            pipeline, threshold, knots, rule = fit_with_threshold(
                inputs, y, config, feature_set, on_step, unseen_months=False, fitted=fitted["every row", tier]
            )
            setattr(classifier, tier, pipeline)
            classifier.thresholds[tier] = threshold
            if rule is not None:
                classifier.threshold_rules = {**(classifier.threshold_rules or {}), tier: rule}
            if knots is not None:
                classifier.calibration = {**(classifier.calibration or {}), tier: knots}
            continue
        (pipeline,) = fitted["every row", tier]
        setattr(classifier, tier, pipeline)
        level = holdout.model.metrics.get("stale_level")
        if tier in STALE_TIERS and level is not None:  # served: aim at the last weeks of every row
            level["served_rate"] = recent_rate(inputs, y, config.year)
            scores = holdout.stale_out_of_fold[tier]
            knots, classifier.thresholds[tier] = aim_at_level(
                scores["probability"], scores["y"], scores["knots"],
                level["training_rate"], level["served_rate"],
            )  # fmt: skip
            if knots is not None:
                classifier.calibration[tier] = knots
    final = _artifact(classifier, inputs, config, processed, holdout.model.metrics)
    final.evidence = holdout.model.evidence
    return final
