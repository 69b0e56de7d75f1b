"""What every command shares: settings with the command's options over them, the options that
recur across commands, progress bars, output checks, and turning errors into exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

import typer

from latam_airlines.errors import InputError

log = logging.getLogger("latam_airlines")

_state = {"quiet": False, "verbose": False}


def global_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging and tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Warnings and errors only, no progress bars."),
) -> None:
    _state.update(quiet=quiet, verbose=verbose)
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def settings(options: Mapping[str, tuple[str, Any]] | None = None):
    """The settings (defaults < params.yaml < LATAM_*) with the command's options over them:
    `settings({"--model": ("train.model", model)})`. An option left out (None) falls through;
    a bad one is an InputError naming the option."""
    from latam_airlines.settings import load_settings

    overrides: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, str], str] = {}
    for flag, (key, value) in (options or {}).items():
        section, name = key.split(".")
        overrides.setdefault(section, {})[name] = value
        origins[(section, name)] = f"option {flag}"
    return load_settings(overrides, origins=origins)


def resolve(path: str | Path) -> Path:
    """settings.resolve, imported on first use (pydantic stays out of `latam --help`)."""
    from latam_airlines.settings import resolve as resolve_path

    return resolve_path(path)


# ---------------------------------------------------- options several commands take
def processed_data() -> Any:
    return typer.Option(
        None,
        "--data",
        "-d",
        help="Processed table, local or s3:// (default: params train.data, the shipped SCL 2017 table).",
    )


def model_choice() -> Any:
    return typer.Option(None, "--model", "-m", help="{MODELS} (default: params train.model).")


def feature_choice() -> Any:
    return typer.Option(None, "--features", help="{FEATURE_CHOICES} (default: params train.features).")


def artifact(help: str = "Artifact (default: params train.model_path).") -> Any:
    return typer.Option(None, "--model", "-m", help=help)


def sample(verb: str) -> Any:
    return typer.Option(None, "--sample", help=f"{verb} on this many rows (stratified).")


def table_year() -> Any:
    return typer.Option(None, "--year", help="Year of a table without AÑO.")


def one_of(choices: tuple[str, ...]) -> str:
    """`a, b or c`: an option's choices for its help."""
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else "".join(choices)


class ChoicesInHelp(typer.core.TyperCommand):
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
                    param.help = param.help.replace(placeholder, one_of(choices))
        super().format_help(ctx, formatter)


# ---------------------------------------------------- progress, outputs, tracking lines
def progress(total: int | None, description: str):
    """A progress bar over `total` steps (None: a count of named steps), silent under --quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", disable=_state["quiet"], file=sys.stderr)


def named_steps(bar, prefix: str) -> Callable[[str], None]:
    """on_step for the library's long functions: each step's name shown as it starts."""

    def on_step(message: str) -> None:
        bar.set_description_str(f"{prefix}: {message}")
        bar.update()

    return on_step


def writable(*files: Optional[Path], folders: tuple[Optional[Path], ...] = ()) -> None:
    """Check every output path before work starts (exit 2 with one line if one can't be written)."""
    from latam_airlines.io import check_output

    for path in files:
        if path is not None:
            check_output(path)
    for path in folders:
        if path is not None:
            check_output(path, folder=True)


def tracked(tracker, version: str | None = None) -> None:
    """One line saying where the MLflow run went (nothing when tracking is off or failed)."""
    if tracker.active and tracker.mlflow is not None:
        registered = (
            f"; registered {tracker.settings['registered_model']} version {version}" if version else ""
        )
        typer.echo(f"MLflow: run logged to {tracker.uri} (tracking {tracker.seconds:.1f} s){registered}")


# ---------------------------------------------------- exit codes
def _is_usage_error(error: Exception) -> bool:
    # Click's errors (typer may vendor its own click) know how to show themselves.
    return callable(getattr(error, "show", None)) and isinstance(getattr(error, "exit_code", None), int)


def run(app: typer.Typer, argv: list[str] | None) -> int:
    """Run the app; user mistakes (InputError, bad usage, a refused path) end with one line on
    stderr and exit code 2, anything unexpected with exit code 1 (the traceback with --verbose)."""
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
