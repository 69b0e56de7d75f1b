"""Run the API with uvicorn (what `latam serve` and the container do)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from latam_airlines.api.app import CACHE_BYTES_ENV, CACHE_SIZE_ENV, MAX_BATCH_ENV, MODEL_PATH_ENV
from latam_airlines.errors import InputError

WORKERS_ENV = "LATAM_WORKERS"
APP_FACTORY = "latam_airlines.api.app:app_from_env"  # reads the model and limits from LATAM_* env
# How uvicorn runs the app, shared by `latam serve` and the load test's server (loadtest/server.py).
UVICORN_SETTINGS = {
    "loop": "uvloop",
    "http": "latam_airlines.api.protocol:GuardedHttpToolsProtocol",  # httptools + limits
    "timeout_keep_alive": 5,
    "backlog": 4096,  # wrk opens all its connections at once
}


def serve(
    model_path: str | Path,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    max_batch: int | None = None,
    cache_size: int | None = None,
    cache_bytes: int | None = None,
    access_log: bool = False,
    on_ready: Callable[[str], None] | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Check the artifact loads, then serve it until interrupted; what is not given comes from
    the settings' serve section.

    uvloop + httptools and no access log: each measured faster (reports/stress_test.md).
    Each worker process loads the model once, through `app_from_env`. Slow, idle and oversize
    clients are bounded by api/protocol.py (header/body timeouts, header cap, connection cap).
    """
    import uvicorn

    from latam_airlines.api.reloading import POLL_SECONDS_ENV, ModelSource
    from latam_airlines.api.shared_state import SharedState, shared_settings
    from latam_airlines.settings import current, filled

    shared = SharedState.from_settings(shared_settings())  # no redis client installed: exit 2 here

    host, port, workers, max_batch, cache_size, cache_bytes, poll_seconds = filled(
        current().serve, host=host, port=port, workers=workers, max_batch=max_batch,
        cache_size=cache_size, cache_bytes=cache_bytes, poll_seconds=poll_seconds,
    )  # fmt: skip
    source = ModelSource(model_path)
    # a missing/corrupt artifact, or an unreachable registry without a local copy, stops here
    # with one clear line (exit 2)
    served = source.load()
    model_path = source.spec if source.ref else source.path
    if workers < 1:
        raise InputError("--workers must be at least 1", value=workers)
    if on_ready is not None:
        where = f"{served.uri} ({served.source}" + (f", version {served.version})" if served.version else ")")
        if served.note:
            on_ready(f"WARNING {served.note}")
        on_ready(f"serving {where} on http://{host}:{port} with {workers} worker(s); docs at /docs")
        if shared is not None:
            on_ready(f"sharing outcome feeds and promotions through Redis at {shared.url}")
    os.environ[MODEL_PATH_ENV] = str(model_path)
    os.environ[MAX_BATCH_ENV] = str(max_batch)
    os.environ[CACHE_SIZE_ENV] = str(cache_size)
    os.environ[CACHE_BYTES_ENV] = str(cache_bytes)
    os.environ[POLL_SECONDS_ENV] = str(poll_seconds)
    os.environ[WORKERS_ENV] = str(workers)  # POST /schedule needs Redis with several workers
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info" if access_log else "warning",
        **UVICORN_SETTINGS,
    )
