"""The MLflow registry: `latam retrain`, `promote`, `models`, `mlflow`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from latam_airlines.cli import options
from latam_airlines.cli.options import progress, resolve, settings
from latam_airlines.errors import InputError


def retrain_command(
    data: Path = typer.Option(
        ...,
        "--data",
        "-d",
        help="New flights: a processed table, or a raw/interim file (features are built).",
    ),
    model: Optional[str] = options.model_choice(),
    features: Optional[str] = options.feature_choice(),
    sample: Optional[int] = options.sample("Train"),
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
    from latam_airlines.models import TrainConfig
    from latam_airlines.tracking.champion import retrain, write_decision

    config = settings(
        {
            "--model": ("train.model", model),
            "--features": ("train.features", features),
            "--margin": ("retrain.margin", margin),
        }
    )
    params = config.as_params()
    table = _read_new_data(data, sample, config.seed)
    # The challenger: the settings' train section as is (without `latam tune`'s params).
    train_options = {
        key: value for key, value in params["train"].items() if key in TrainConfig.__dataclass_fields__
    }
    with progress(1, "retrain") as bar:
        decision = retrain(table, params, {**train_options, "seed": config.seed}, promote=not dry_run)
        bar.update()
    path = write_decision(decision, report or resolve(config.retrain.report))
    typer.echo(decision.summary_line())
    typer.echo(f"logged run {decision.run_id}; wrote {path}")


def _read_new_data(path: Path, sample: Optional[int], seed: int):
    """A processed table as is; anything else goes through data make + features build."""
    from latam_airlines.features import TARGET
    from latam_airlines.io import read_table
    from latam_airlines.models import REQUIRED_FIELDS

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

    tracking = settings().as_params()["tracking"]
    previous = registry.set_alias(version, alias, tracking)
    if alias == registry.CHAMPION:
        registry.cache_alias(alias, tracking)
    typer.echo(f"{tracking['registered_model']}@{alias} -> version {version} (was {previous or 'unset'})")


def models_command() -> None:
    """List the registered model's versions, aliases and holdout metrics.

    \b
    Examples:
      latam models
      MLFLOW_TRACKING_URI=http://127.0.0.1:5000 latam models
    """
    from latam_airlines.tracking import registry
    from latam_airlines.tracking.runs import tracking_uri

    tracking = settings().as_params()["tracking"]
    rows = registry.list_versions(tracking)
    typer.echo(f"{tracking['registered_model']} at {tracking_uri(tracking)}: {len(rows)} version(s)")
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

    tracking = settings().tracking
    executable = shutil.which("mlflow")
    if executable is None:
        raise InputError('mlflow is not installed: pip install -e ".[mlflow]"')
    command = [
        executable, "server", "--backend-store-uri", f"sqlite:///{resolve(tracking.database)}",
        "--default-artifact-root", str(resolve(tracking.artifacts)), "--host", host, "--port", str(port),
    ]  # fmt: skip
    typer.echo(
        f"MLflow UI on http://{host}:{port} (store {tracking.database}, artifacts {tracking.artifacts})"
    )
    raise typer.Exit(subprocess.call(command))
