"""`latam anomalies`."""

from __future__ import annotations

from typing import Optional

import typer

from latam_airlines.cli.options import progress, resolve, settings, writable


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
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Report folder, local or s3://bucket/prefix; writes <output>/<year>/ "
        "(default: params anomalies.output).",
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
    worker_start: Optional[str] = typer.Option(
        None,
        "--worker-start",
        help="How the LocalCluster's workers start for --engine dask without --scheduler: fork "
        "(copies of this process, modules imported once), forkserver, spawn (fresh interpreters) "
        "or threads (default: params anomalies.worker_start).",
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
    from latam_airlines.io import join

    config = settings(
        {
            "--year": ("anomalies.year", year),
            "--method": ("anomalies.method", method),
            "--engine": ("anomalies.engine", engine),
            "--scheduler": ("anomalies.scheduler", scheduler),
            "--worker-start": ("anomalies.worker_start", worker_start),
            "--by": ("anomalies.by", by),
            "--jobs": ("anomalies.n_jobs", jobs),
        }
    )
    options = config.anomalies
    scoring = scoring_settings(config.as_params()["anomalies"], config.seed)
    output = output or resolve(options.output)
    writable(folders=(output,))
    run = run_anomaly_report(
        input or str(resolve(options.input)), str(options.year), output, scoring,
        by=options.by, sigmas=options.sigmas, n_jobs=options.n_jobs, progress=progress,
        engine=options.engine, scheduler=options.scheduler, worker_start=options.worker_start,
    )  # fmt: skip
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
    typer.echo(f"every anomaly with its cause: {join(run.folder, 'index.md')}")
