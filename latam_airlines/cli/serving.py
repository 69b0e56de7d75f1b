"""`latam serve` and `latam stress`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from latam_airlines.cli.options import resolve, settings, writable


def model_spec(model: Optional[Path | str], config) -> Path | str:
    """--model, else $LATAM_MODEL_PATH, else the settings' train.model_path (a models:/ URI
    stays a str)."""
    from latam_airlines.api.app import MODEL_PATH_ENV

    spec = (
        str(model)
        if model is not None
        else os.environ.get(MODEL_PATH_ENV) or str(resolve(config.train.model_path))
    )
    return spec if spec.startswith("models:/") else Path(spec)


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
    from latam_airlines.api.server import serve as run_server

    config = settings(
        {
            "--host": ("serve.host", host),
            "--port": ("serve.port", port),
            "--workers": ("serve.workers", workers),
        }
    )
    serving = config.serve
    run_server(
        model_spec(model, config), host=serving.host, port=serving.port, workers=serving.workers,
        max_batch=serving.max_batch, cache_size=serving.cache_size, cache_bytes=serving.cache_bytes,
        access_log=access_log, on_ready=lambda line: typer.echo(line, err=True),
        poll_seconds=serving.poll_seconds,
    )  # fmt: skip


def stress(
    url: Optional[str] = typer.Option(
        None, "--url", help="Running API on 127.0.0.1 (default: start the API with uvicorn on a free port)."
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

    from latam_airlines import loadtest as load

    config = settings(
        {
            "--duration": ("stress.duration", duration),
            "--connections": ("stress.connections", connections),
            "--threads": ("stress.threads", threads),
            "--batch-size": ("stress.batch_size", batch_size),
            "--workers": ("serve.workers", workers),
        }
    )
    options = config.stress
    output = output or resolve(options.output)
    load.wrk_path()  # exit 2 with the install hint before starting anything
    writable(folders=(output,))
    with contextlib.ExitStack() as stack:
        if url is None:
            url = stack.enter_context(
                load.local_server(model_spec(model, config), workers=config.serve.workers)
            )
        result = load.stress(
            url, duration=options.duration, connections=options.connections, threads=options.threads,
            batch_size=options.batch_size, seed=config.seed, timeout_s=options.timeout_s,
        )  # fmt: skip
    summary_path, plot_path = load.write_report(result, output)
    typer.echo(result.summary_line())
    typer.echo(f"wrote {summary_path} and {plot_path}")
