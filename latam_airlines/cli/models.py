"""`latam train`, `evaluate`, `compare`, `tune`, `predict`, `outcomes`, `schedule`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from latam_airlines.cli import options
from latam_airlines.cli.options import log, named_steps, progress, resolve, settings, tracked, writable
from latam_airlines.errors import InputError


def read_processed(data: Optional[str], config, sample: Optional[int] = None):
    """The processed table (--data, else the settings' train.data), optionally sampled."""
    from latam_airlines.io import read_table
    from latam_airlines.models.compare import stratified_sample

    table = read_table(data or resolve(config.train.data))
    if sample is not None and sample < 1:
        raise InputError(f"--sample must be a positive number of rows, got {sample}", value=sample)
    return stratified_sample(table, sample, config.seed)


def metric_line(metrics: dict) -> str:
    line = (
        f"ROC-AUC {metrics['roc_auc']:.3f}, PR-AUC {metrics['pr_auc']:.3f}, "
        f"F1(delayed) {metrics['f1_delayed']:.3f}, recall {metrics['recall_delayed']:.3f}, "
        f"precision {metrics['precision_delayed']:.3f} at threshold {metrics['threshold']:.3f}"
    )
    if "brier" in metrics:  # calibration, against always answering the observed base rate
        line += (
            f"; Brier {metrics['brier']:.4f} (base rate {metrics['brier_base_rate']:.4f}), "
            f"log-loss {metrics['log_loss']:.4f} (base rate {metrics['log_loss_base_rate']:.4f}), "
            f"ECE {metrics['ece']:.3f}, mean p {metrics['mean_probability']:.3f} vs observed {metrics['delay_rate']:.3f}"
        )
    return line


def tuned_params(config, model: str) -> dict:
    """The params `latam tune` wrote for `model` (train.tuned_params; none when unset)."""
    from latam_airlines.models.tune import load_tuned

    path = config.train.tuned_params
    return load_tuned(resolve(path)).get(model, {}) if path else {}


def train_command(
    data: Optional[str] = options.processed_data(),
    model: Optional[str] = options.model_choice(),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Artifact (default: params train.model_path)."
    ),
    metrics: Optional[Path] = typer.Option(
        None, "--metrics", help="Metrics JSON (default: params train.metrics_path)."
    ),
    features: Optional[str] = options.feature_choice(),
    balance: Optional[str] = typer.Option(None, "--balance", help="weight, undersample or none."),
    split: Optional[str] = typer.Option(
        None, "--split", help="temporal (last months present), months (params test_months) or random."
    ),
    year: Optional[int] = typer.Option(
        None, "--year", help="Year of a table without AÑO (default: AÑO, else 2017)."
    ),
    sample: Optional[int] = options.sample("Train"),
    tuned: bool = typer.Option(
        True, "--tuned/--no-tuned", help="Merge params from `latam tune` (params train.tuned_params)."
    ),
) -> None:
    """Train a delay model, evaluate it on the holdout, write the artifact and metrics.json.

    \b
    Examples:
      latam train
      latam train --model xgb --data latam_airlines/datasets/scl/features_2017.csv.gz
      latam train --model logreg --split random --output models/logreg.joblib
    """
    import json
    import time

    from latam_airlines.io import write_text
    from latam_airlines.models import TrainConfig, train
    from latam_airlines.tracking import Tracker
    from latam_airlines.tracking.commands import track_train

    config = settings(
        {
            "--model": ("train.model", model),
            "--features": ("train.features", features),
            "--balance": ("train.balance", balance),
            "--split": ("train.split", split),
            "--year": ("train.year", year),
        }
    )
    params = config.as_params()
    model = config.train.model
    output = output or resolve(config.train.model_path)
    metrics_path = metrics or resolve(config.train.metrics_path)
    writable(output, metrics_path)  # before the fit, not after it
    hyperparameters = tuned_params(config, model) if tuned else {}
    tracker = Tracker(params).connect_in_background()  # MLflow starts while the model trains
    with progress(None, f"train {model}: read the table") as bar:
        table = read_processed(data, config, sample)
        bar.update()
        started = time.perf_counter()
        known = set(TrainConfig.__dataclass_fields__) & set(params["train"])
        delay_model = train(
            table, seed=config.seed, on_step=named_steps(bar, f"train {model}"), params=hyperparameters,
            **{key: params["train"][key] for key in known},
        )  # fmt: skip
        training_seconds = time.perf_counter() - started
        named_steps(bar, f"train {model}")("write the artifact and metrics")
        delay_model.save(output)
        summary = {**delay_model.metrics, "model": delay_model.metadata["version"], "params": hyperparameters}
        write_text(json.dumps(summary, indent=2) + "\n", metrics_path)
    tracker, version = track_train(params, table, delay_model, output, training_seconds, tracker)
    holdout = delay_model.metrics["holdout"]
    typer.echo(f"trained {delay_model.metadata['version']} on {len(table):,} rows -> {output}")
    typer.echo(f"{delay_model.metrics['protocol']}: {metric_line(holdout)}")
    if "holdout_without_feed" in delay_model.metrics:
        typer.echo(
            f"no outcome feed after the training part (stale regime after "
            f"{delay_model.metrics.get('stale_after_days')} days): {metric_line(delay_model.metrics['holdout_without_feed'])}"
        )
    if "holdout_minimal_fields" in delay_model.metrics:
        typer.echo(
            f"minimal record (OPERA, TIPOVUELO, MES): {metric_line(delay_model.metrics['holdout_minimal_fields'])}"
        )
    tracked(tracker, version)


def evaluate_command(
    model: Optional[Path] = options.artifact(),
    data: Optional[str] = options.processed_data(),
    reports_dir: Optional[Path] = typer.Option(
        None, "--reports-dir", help="evaluation.json and plots/*.csv (default: params evaluate.reports_dir)."
    ),
    figures_dir: Optional[Path] = typer.Option(
        None, "--figures-dir", help="PNG figures (default: params evaluate.figures_dir)."
    ),
) -> None:
    """Evaluate an artifact: metrics JSON, confusion matrix, ROC/PR/calibration curves, importance.

    On its own training data it reports the holdout that `latam train` recorded in the artifact
    (no refit; an older artifact without that record re-runs the holdout protocol and says so);
    on other data the artifact is scored as is.

    \b
    Examples:
      latam evaluate
      latam evaluate --model models/model.joblib --data latam_airlines/datasets/scl/features_2017.csv.gz
    """
    from latam_airlines.models import load_model
    from latam_airlines.models.evaluate import evaluate, write_evaluation
    from latam_airlines.tracking import Tracker
    from latam_airlines.tracking.commands import track_evaluate

    config = settings()
    params = config.as_params()
    reports_dir = reports_dir or resolve(config.evaluate.reports_dir)
    figures_dir = figures_dir or resolve(config.evaluate.figures_dir)
    writable(folders=(reports_dir, figures_dir))
    tracker = Tracker(params).connect_in_background()
    with progress(None, "evaluate: read the model and the table") as bar:
        delay_model = load_model(model or resolve(config.train.model_path))
        table = read_processed(data, config)
        bar.update()
        on_step = named_steps(bar, "evaluate")
        evaluation = evaluate(
            delay_model, table, repeats=config.evaluate.permutation_repeats, on_step=on_step
        )
        on_step("write metrics, curves and figures")
        written = write_evaluation(evaluation, reports_dir, figures_dir)
    typer.echo(
        f"{evaluation.protocol}: {metric_line(evaluation.metrics)}; accuracy {evaluation.metrics['accuracy']:.3f}"
    )
    typer.echo(f"wrote {len(written)} files under {reports_dir} and {figures_dir}")
    tracked(track_evaluate(params, table, delay_model, evaluation, written, tracker))


def compare_command(
    data: Optional[str] = options.processed_data(),
    models: Optional[str] = typer.Option(
        None,
        "--models",
        help="Comma-separated candidates: models ({MODELS}) or rows of the default table "
        "such as 'xgb base' (default: all).",
    ),
    folds: Optional[int] = typer.Option(
        None, "--folds", help="Stratified K-fold folds (default: params compare.folds)."
    ),
    sample: Optional[int] = options.sample("Compare"),
    year: Optional[int] = options.table_year(),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Markdown tables (default: params compare.report)."
    ),
    results: Optional[Path] = typer.Option(None, "--results", help="Also write every fold's metrics as CSV."),
) -> None:
    """Cross-validate every candidate (stratified K-fold and temporal holdout) and tabulate.

    Writes the tables (mean ± std per metric) to the report file; the argued choice lives in
    reports/model_selection.md, which quotes them.

    \b
    Examples:
      latam compare --data latam_airlines/datasets/scl/features_2017.csv.gz
      latam compare --models reference,xgb --folds 2 --sample 5000 --report /tmp/compare.md
    """
    from latam_airlines.io import write_table
    from latam_airlines.models.compare import compare_models
    from latam_airlines.models.pipelines import select_candidates
    from latam_airlines.models.selection_report import selection_tables, write_selection_report
    from latam_airlines.models.splits import split_options
    from latam_airlines.models.tune import load_tuned
    from latam_airlines.tracking import Tracker
    from latam_airlines.tracking.commands import track_compare

    config = settings({"--folds": ("compare.folds", folds), "--sample": ("compare.sample", sample)})
    params = config.as_params()
    folds = config.compare.folds
    report = report or resolve(config.compare.report)
    writable(report, results)
    tuned = load_tuned(resolve(config.train.tuned_params)) if config.train.tuned_params else {}
    candidates = select_candidates(
        [m.strip() for m in models.split(",") if m.strip()] if models else None, tuned
    )
    table = read_processed(data, config, config.compare.sample)
    tracker = Tracker(params).connect_in_background()
    with progress(len(candidates) * (folds + 1), "compare") as bar:
        scores = compare_models(
            table, candidates, folds=folds, seed=config.seed, year=year,
            split=split_options(params["train"]), on_step=lambda _: bar.update(),
        )  # fmt: skip
    tables = selection_tables(scores, candidates, table.attrs.get("source"), len(table), folds, config.seed)
    text = write_selection_report(tables, report)
    if results:
        write_table(scores, results)
    typer.echo(text)
    typer.echo(f"wrote {report}")
    tracked(track_compare(params, table, scores, folds, report, tracker))


def tune_command(
    data: Optional[str] = options.processed_data(),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="{TUNABLE} (default: params tune.model)."
    ),
    trials: Optional[int] = typer.Option(
        None, "--trials", "-n", help="Optuna trials (default: params tune.trials)."
    ),
    folds: Optional[int] = typer.Option(
        None, "--folds", help="CV folds per trial (default: params tune.folds)."
    ),
    sample: Optional[int] = options.sample("Tune"),
    year: Optional[int] = options.table_year(),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Tuned params YAML (default: params tune.output)."
    ),
) -> None:
    """Search hyperparameters with Optuna (CV ROC-AUC on Jan–Oct only); `train` picks them up.

    \b
    Examples:
      latam tune --trials 30
      latam tune --data latam_airlines/datasets/scl/features_2017.csv.gz --trials 5 --folds 2 --sample 10000
    """
    from latam_airlines.models.splits import split_options
    from latam_airlines.models.tune import save_tuned, tune
    from latam_airlines.tracking import Tracker
    from latam_airlines.tracking.commands import track_tune

    config = settings(
        {
            "--model": ("tune.model", model),
            "--trials": ("tune.trials", trials),
            "--folds": ("tune.folds", folds),
            "--sample": ("tune.sample", sample),
        }
    )
    params = config.as_params()
    trials = config.tune.trials
    output = output or resolve(config.tune.output)
    writable(output)
    table = read_processed(data, config, config.tune.sample)
    tracker = Tracker(params).connect_in_background()
    with progress(trials, "tune") as bar:
        result = tune(
            table, model=config.tune.model, trials=trials, folds=config.tune.folds,
            seed=config.seed, year=year, split=split_options(params["train"]),
            on_trial=lambda *_: bar.update(),
        )  # fmt: skip
    save_tuned(result, output)
    typer.echo(f"best CV ROC-AUC {result['cv_roc_auc']:.4f} after {trials} trials ({result['folds']} folds)")
    typer.echo(f"best params for {result['model']}: {result['params']}")
    typer.echo(f"wrote {output} (used by `latam train --model {result['model']}`)")
    tracked(track_tune(params, table, result, tracker))


def predict_command(
    input: str = typer.Option(
        ...,
        "--input",
        "-i",
        help="Flights: raw challenge CSV, processed table or records (CSV/Parquet; local or s3://).",
    ),
    output: str = typer.Option(
        ..., "--output", "-o", help="CSV with delay_probability and delayed per flight (local or s3://)."
    ),
    model: Optional[str] = options.artifact(),
) -> None:
    """Score every flight of a file: probability of a >15 min delay and the label.

    \b
    Examples:
      latam predict --input latam_airlines/datasets/scl/raw_sample_2017.csv.gz --output reports/predictions.csv
      latam predict --model models/model.joblib --input flights.parquet --output predictions.csv
    """
    from latam_airlines.io import write_table
    from latam_airlines.models import load_model
    from latam_airlines.models.predict import predict_flights, read_flights_to_score

    writable(output)
    delay_model = load_model(model or resolve(settings().train.model_path))
    flights = read_flights_to_score(input)
    predictions = predict_flights(delay_model, flights)
    unbooked = _schedule_column(delay_model, flights, predictions)
    write_table(predictions, output)
    gap = delay_model.outcome_gap_days(flights)
    stale_after = delay_model.feed_state()["stale_after_days"]
    if stale_after is not None and gap is not None and gap > stale_after:  # the stale regime answers them
        log.warning(
            "recent delay rates are as of %s, %d days before the latest flight: flights more than "
            "%d days after it are scored by the stale regime; feed departures with `latam outcomes`",
            delay_model.outcomes_until,
            gap,
            stale_after,
        )
    if unbooked:
        log.warning(
            "%d flights fall on days without a fed planned schedule: answered without its counts "
            "(regime stale) or with counts that read a typical day (column schedule); feed it with "
            "`latam schedule`",
            unbooked,
        )
    unknown = int((predictions["unknown_fields"] != "").sum())
    regimes = ", ".join(
        f"{name} {len(rows):,} (threshold {_threshold_range(rows['threshold'])})"
        for name, rows in sorted(predictions.groupby("regime"), key=lambda item: -len(item[1]))
    )
    typer.echo(
        f"wrote {len(predictions):,} predictions to {output}: {int(predictions['delayed'].sum()):,} predicted delayed; "
        f"regimes: {regimes}; {unknown:,} flights with values the model never saw"
    )


def _threshold_range(thresholds) -> str:  # a pandas Series
    """One regime's threshold, or its range when it follows the level (the minimal regimes)."""
    low, high = thresholds.min(), thresholds.max()
    return f"{low:.3f}" if round(low, 3) == round(high, 3) else f"{low:.3f}-{high:.3f}"


def _schedule_column(delay_model, flights, predictions) -> int:
    """For a model reading planned-schedule counts, add the `schedule` column (booked, typical
    day or empty: models/schedule_feed.schedule_status); returns how many flights fell on days
    without a fed schedule: read as a typical day, or answered by the plain stale tier because
    the stale tier with the counts answers booked days only."""
    from latam_airlines.models.schedule_feed import reads_schedule, schedule_status

    if not reads_schedule(delay_model):
        return 0
    status = schedule_status(delay_model, flights, predictions["regime"].to_numpy())
    predictions["schedule"] = [value or "" for value in status]
    typical = sum(value == "typical day" for value in status)
    if getattr(delay_model.pipeline, "stale_schedule", None) is None:
        return typical
    return typical + int((predictions["regime"] == "stale").sum())


def outcomes_command(
    data: str = typer.Option(
        ...,
        "--data",
        "-d",
        help="Departures that happened: processed table (atraso_15) or raw file with Fecha-O (local or s3://).",
    ),
    model: Optional[str] = options.artifact(
        "Artifact to update in place (default: params train.model_path)."
    ),
) -> None:
    """Feed observed departures to a saved model: its recent delay rates (the last 7-28 days
    per airline, route and slot) move on to them, without refitting. Run it daily (or several
    times a day). Outcomes are kept per flight: a flight fed again replaces itself, new flights
    of a day add to it, so partial days are fine. A running `latam serve` picks the update up
    within serve.poll_seconds (its file), or within a second from Redis when shared_state is set.

    \b
    Examples:
      latam outcomes --data data/processed/features_2017-12-01.csv
      latam outcomes --model models/model.joblib --data yesterday_raw.csv
    """
    from latam_airlines.api.shared_state import feed_and_publish

    path = model or resolve(settings().train.model_path)
    typer.echo(feed_and_publish(path, data).summary_line())


def schedule_command(
    data: str = typer.Option(
        ...,
        "--data",
        "-d",
        help="Planned flights leaving SCL: Fecha-I, OPERA, TIPOVUELO, Des-I (Vlo-I, Emp-I, Ori-I optional); "
        "CSV/Parquet, local or s3://.",
    ),
    model: Optional[str] = options.artifact(
        "Artifact to update in place (default: params train.model_path)."
    ),
) -> None:
    """Feed a saved model the planned schedule of the coming days, so its planned-schedule
    counts (flights that day, that hour, within 60 min, of the airline and the destination,
    against the weekday norm) see the real schedule instead of "a typical day". For models
    trained with train.stale_schedule: true or a *_schedule feature set. Kept per flight (day,
    airline code and flight number Vlo-I; without a number: day, airline, type, destination
    and minute): a flight fed again replaces itself (a retimed flight moves), new flights of a
    day add to it. A running `latam serve` picks it up within serve.poll_seconds (its file), or
    within a second from Redis when shared_state is set.

    \b
    Examples:
      latam schedule --data schedule_2018-01-15.csv
      latam schedule --model models/model.joblib --data s3://bucket/schedules/schedule_2018-01-15.csv
    """
    from latam_airlines.api.shared_state import schedule_and_publish
    from latam_airlines.models.schedule_feed import read_schedule

    path = model or resolve(settings().train.model_path)
    flights = read_schedule(data)
    typer.echo(schedule_and_publish(path, flights, str(data)).summary_line())
