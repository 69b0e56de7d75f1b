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
    """Run the test suite on two workers (--fast: the fast loop, without the `slow` tests)."""
    fast_loop = '-m "not slow" -p no:nbmake' if fast else ""
    c.run(f"pytest -n 2 --dist loadfile {fast_loop}", pty=True)


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


def _options(**given) -> str:
    """` --name value` for each option given; the rest falls to the settings (params.yaml)."""
    return "".join(
        f" --{name.replace('_', '-')} {value}" for name, value in given.items() if value is not None
    )


@task
def serve(c, model=None, port=None, workers=None):
    """Serve the model on 127.0.0.1 (`latam serve`)."""
    c.run("latam serve --host 127.0.0.1" + _options(model=model, port=port, workers=workers), pty=True)


@task
def mlflow(c, port=None):
    """The MLflow UI and tracking server on the embedded store (`latam mlflow`), on 127.0.0.1."""
    c.run("latam mlflow --host 127.0.0.1" + _options(port=port), pty=True)


@task
def stress(c, url=None, duration=None, connections=None):
    """Load-test a running server (`latam stress`; default: the settings' serve host and port)."""
    if url is None:
        from latam_airlines.settings import current

        url = f"http://{current().serve.host}:{current().serve.port}"
    c.run("latam stress" + _options(url=url, duration=duration, connections=connections), pty=True)


@task
def anomalies(c, input=None, year=None, output=None):
    """Anomalous delay days per airport (`latam anomalies`)."""
    c.run("latam anomalies" + _options(input=input, year=year, output=output), pty=True)


@task
def benchmark(c):
    """Run every benchmark script under benchmarks/ (prints their figures)."""
    c.run('for script in benchmarks/*.py; do echo "== $script"; python "$script" || exit 1; done', pty=True)
