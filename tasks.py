"""Developer tasks: `invoke --list`. Each one calls the same CLI/tools a user would."""

from __future__ import annotations

import os

from invoke import task


@task
def notebook(c, port=8888):
    """Start Jupyter Lab in notebooks/ (the kernel imports the installed package)."""
    # Containers and CI machines often run as root, which Jupyter refuses without this flag.
    as_root = " --allow-root" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    c.run(f"jupyter lab --notebook-dir=notebooks --port={port} --no-browser{as_root}", pty=True)


@task
def test(c, fast=False):
    """Run the test suite (--fast skips the notebooks)."""
    c.run("pytest tests" if fast else "pytest", pty=True)


@task
def lint(c):
    """ruff lint and format check, then hadolint on the Dockerfile."""
    c.run("ruff check .")
    c.run("ruff format --check .")
    c.run("hadolint Dockerfile")


@task(name="format")
def format_code(c):
    """Format and autofix with ruff."""
    c.run("ruff format .")
    c.run("ruff check --fix .")


@task
def repro(c, force=False):
    """Run the whole DVC pipeline (`dvc repro`), then show its metrics."""
    c.run("dvc repro" + (" --force" if force else ""), pty=True)
    c.run("dvc metrics show")


@task
def serve(c, model="models/model.joblib", port=8000, workers=1):
    """Serve the model on 127.0.0.1 (`latam serve`)."""
    c.run(f"latam serve --model {model} --host 127.0.0.1 --port {port} --workers {workers}", pty=True)


@task
def mlflow(c, port=5000):
    """The MLflow UI and tracking server on the embedded store (`latam mlflow`), on 127.0.0.1."""
    c.run(f"latam mlflow --host 127.0.0.1 --port {port}", pty=True)


@task
def stress(c, url="http://127.0.0.1:8000", duration=45, connections=64):
    """Load-test a running server (`latam stress`)."""
    c.run(f"latam stress --url {url} --duration {duration} --connections {connections}", pty=True)


@task
def anomalies(c, input="data/interim/flights.parquet", year="latest", output="reports/anomalies"):
    """Anomalous delay days per airport (`latam anomalies`)."""
    c.run(f"latam anomalies --input {input} --year {year} --output {output}", pty=True)


@task
def benchmark(c):
    """Run every benchmark script under benchmarks/ (prints their figures)."""
    c.run('for script in benchmarks/*.py; do echo "== $script"; python "$script" || exit 1; done', pty=True)
