"""The `latam` command line: parses options, calls library functions, prints results.

One module per domain registers nothing itself: the table below names every command and the
function behind it. Shared options, progress bars, output checks and exit codes live in
options.py. User mistakes (InputError, bad usage) end with one line on stderr and exit code 2;
anything unexpected ends with exit code 1 (the traceback only with --verbose).
"""

from __future__ import annotations

import typer

from latam_airlines.cli import anomalies, data, models, serving, tracking
from latam_airlines.cli.options import ChoicesInHelp, global_options, run

app = typer.Typer(
    name="latam",
    help="Flight-delay model for SCL: data, features, training, serving, stress tests, anomalies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.callback()(global_options)
data_app = typer.Typer(help="Raw flight files -> interim table.", no_args_is_help=True)
features_app = typer.Typer(help="Interim table -> processed feature table.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(features_app, name="features")

data_app.command("make")(data.data_make)
data_app.command("fetch-us2001")(data.data_fetch_us2001)
features_app.command("build")(data.features_build)
app.command("train", cls=ChoicesInHelp)(models.train_command)
app.command("evaluate")(models.evaluate_command)
app.command("compare", cls=ChoicesInHelp)(models.compare_command)
app.command("tune", cls=ChoicesInHelp)(models.tune_command)
app.command("predict")(models.predict_command)
app.command("outcomes")(models.outcomes_command)
app.command("schedule")(models.schedule_command)
app.command("serve")(serving.serve)
app.command("stress")(serving.stress)
app.command("retrain", cls=ChoicesInHelp)(tracking.retrain_command)
app.command("promote")(tracking.promote_command)
app.command("models")(tracking.models_command)
app.command("mlflow")(tracking.mlflow_command)
app.command("anomalies")(anomalies.anomalies)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `latam` script; returns the exit code."""
    return run(app, argv)


__all__ = ["app", "main"]
