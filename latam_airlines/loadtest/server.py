"""A local API server to load: uvicorn started directly in a child process (the same app
factory and settings as `latam serve`), on a free 127.0.0.1 port, stopped by its pid."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from latam_airlines.errors import InputError


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen | None = None, timeout_s: float = 60) -> None:
    """Poll {url}/health until it answers 200; InputError if the server dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise InputError(f"the server exited with code {process.returncode} before answering", value=url)
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{url}/health", timeout=1) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise InputError(f"the server did not answer /health within {timeout_s:.0f} s", value=url)


def uvicorn_command(port: int, workers: int = 1) -> list[str]:
    """`python -m uvicorn` serving the API's app factory on 127.0.0.1:port as `latam serve` does."""
    from latam_airlines.api.server import APP_FACTORY, UVICORN_SETTINGS

    flags = [f"--{name.replace('_', '-')}={value}" for name, value in UVICORN_SETTINGS.items()]
    return [
        sys.executable, "-m", "uvicorn", APP_FACTORY, "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), *flags, "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to this server's own pid (uvicorn stops its workers), SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def local_server(
    model_path: str | Path,
    workers: int = 1,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    on_process: Callable[[subprocess.Popen], None] | None = None,
) -> Iterator[str]:
    """Serve `model_path` (a file or a models:/ URI) with uvicorn on 127.0.0.1 in a child
    process; yield its URL; stop it afterwards, also when it fails to start. `on_process` gets
    the child once it answers (e.g. to watch its memory)."""
    from latam_airlines.api.app import MODEL_PATH_ENV

    if workers < 1:
        raise InputError("--workers must be at least 1", value=workers)
    port = port or free_port()
    model = str(model_path) if str(model_path).startswith("models:/") else str(Path(model_path).resolve())
    environment = os.environ | {MODEL_PATH_ENV: model} | dict(extra_env or {})
    # stderr to a file, not a pipe: a chatty server must never block on a full pipe.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            uvicorn_command(port, workers), env=environment, stdout=subprocess.DEVNULL, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_healthy(url, process)
            except InputError as error:
                _stop(process)
                log.seek(0)
                lines = log.read().decode(errors="replace").strip().splitlines()
                raise InputError(f"the API server did not start: {lines[-1] if lines else error}") from None
            if on_process is not None:
                on_process(process)
            yield url
        finally:
            _stop(process)
