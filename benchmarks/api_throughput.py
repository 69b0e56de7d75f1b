"""API speed goals, measured side by side in one run on one machine (load generator included).

Goals (issue 4):
  1. POST /predict (one flight) sustains >= 0.75x the requests/s of a no-op POST endpoint
     served by the same app and server settings (wrk, 64 connections, 1 wrk thread);
  2. a 45 s run at 64 connections against the API served as `latam serve` serves it completes
     >= 150,000 requests with zero errors and p99 < 50 ms;
  3. a batch of 1,000 flights is answered in < 25 ms (median over keep-alive requests).
With --ablation it also measures each serving choice against its alternative (the table of
reports/stress_test.md). The last line printed is the /predict : no-op ratio.

Usage:
  python benchmarks/api_throughput.py --model models/model.joblib
  python benchmarks/api_throughput.py --model models/model.joblib --quick
  python benchmarks/api_throughput.py --model models/model.joblib --ablation --seconds 10
Needs wrk (apt-get install wrk).
"""

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from latam_airlines import loadtest as load
from latam_airlines.api import app_from_env
from latam_airlines.api.schemas import PredictRequest
from latam_airlines.api.service import PredictFastPath
from latam_airlines.api.validation import FlightValidator
from latam_airlines.models import load_model

VARIANT_ENV = "LATAM_BENCH_VARIANT"
HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------- app variants (server side)
NOOP_BODY = b'{"predict":[0],"probability":[0.0]}'


class RawNoop:
    """POST /noop-raw answered at the fast path's own layer, in front of FastAPI: the strictest
    baseline (what /predict costs beyond reading a request and writing a response)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != "/noop-raw":
            await self.app(scope, receive, send)
            return
        more_body = True
        while more_body:  # read the request whole, as /predict does
            more_body = (await receive()).get("more_body", False)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(NOOP_BODY)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": NOOP_BODY})


def make_app():
    """uvicorn factory: the production app, or one alternative serving choice ($LATAM_BENCH_VARIANT)."""
    variant = os.environ.get(VARIANT_ENV, "production")
    app = app_from_env()
    if variant == "production":
        # The no-op: same app, same server, same request bodies; answers without any work.
        @app.post("/noop")
        async def noop() -> Response:
            return Response(NOOP_BODY, media_type="application/json")

        return RawNoop(app)
    model, predictor = app.state.model, app.state.predictor
    if variant == "router":
        return app  # served with LATAM_FAST_PATH=0: /predict through FastAPI's router
    if variant == "inner":
        # The fast path as a FastAPI user middleware: inside FastAPI's own middleware layers.
        app.add_middleware(PredictFastPath, service=app.state.service)
        return app
    bench = FastAPI()

    @bench.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @bench.get("/model")
    async def model_info() -> dict:
        return {"known_values": model.known_values}

    if variant == "naive":
        # The challenge's way: pydantic body, sync handler (thread pool), model per request, dict response.
        model = load_model(os.environ["LATAM_MODEL_PATH"])  # as trained (estimator threads untouched)

        @bench.post("/predict")
        def naive(request: PredictRequest) -> dict:
            flights = [flight.model_dump(by_alias=True, exclude_none=True) for flight in request.flights]
            probabilities = model.predict_proba(flights)
            return {"predict": model.predict(flights), "probability": probabilities.tolist()}

    elif variant == "pydantic":
        # Production minus the plain-Python validation: pydantic parses and validates the body.
        @bench.post("/predict")
        async def with_pydantic(request: PredictRequest) -> Response:
            flights = [flight.model_dump(by_alias=True, exclude_none=True) for flight in request.flights]
            labels, probabilities = predictor.predict(flights)
            return Response(
                orjson.dumps({"predict": labels, "probability": probabilities}), media_type="application/json"
            )

    elif variant == "jsonresponse":
        # Production minus orjson on the way out: FastAPI's JSONResponse.
        validator = FlightValidator(model.known_values, max_batch=10_000)

        @bench.post("/predict")
        async def with_jsonresponse(request: Request) -> JSONResponse:
            flights = validator.flights(json.loads(await request.body()))
            labels, probabilities = predictor.predict(flights)
            return JSONResponse({"predict": labels, "probability": probabilities})

    else:
        raise SystemExit(f"unknown {VARIANT_ENV}={variant!r}")
    return bench


# ----------------------------------------------------------------- client side
@contextlib.contextmanager
def uvicorn_server(
    model: Path, variant: str = "production", workers: int = 1, fast_stack: bool = True,
    access_log: bool = False, cache_size: int = 100_000,
) -> Iterator[str]:  # fmt: skip
    """uvicorn on 127.0.0.1 serving make_app(); the same settings `latam serve` uses by default."""
    port = load.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "api_throughput:make_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--backlog", "4096",
        "--log-level", "warning", "--loop", "uvloop" if fast_stack else "asyncio",
        "--http", "httptools" if fast_stack else "h11",
    ] + ([] if access_log else ["--no-access-log"])  # fmt: skip
    environment = os.environ | {
        VARIANT_ENV: variant, "LATAM_MODEL_PATH": str(model), "LATAM_CACHE_SIZE": str(cache_size),
        "LATAM_FAST_PATH": "0" if variant in ("router", "inner") else "1",
    }  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            load.wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wrk(url: str, path: str, bodies: list[str], seconds: float, connections: int = 64) -> load.StressResult:
    """wrk POSTing `bodies` to url+path (/predict or /noop)."""
    return load.run_wrk(url, bodies, seconds, connections, path=path)


def batch_latency_ms(url: str, body: str, repeats: int = 100) -> tuple[float, float]:
    """Median and p95 wall time (ms) of POST /predict with `body`, over one keep-alive connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    payload = body.encode()
    timings = []
    for attempt in range(repeats + 5):
        started = time.perf_counter()
        connection.request("POST", "/predict", payload, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 200:
            raise SystemExit(f"batch request failed with {answer.status}")
        if attempt >= 5:  # the first few warm the connection and any cache
            timings.append(elapsed)
    connection.close()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def known_values(url: str) -> dict:
    return load.fetch_json(f"{url}/model")["known_values"]


def rich_batch(known: dict, size: int, seed: int) -> str:
    """`size` flights with a distinct scheduled time each: every record misses the cache."""
    import random

    rng = random.Random(seed)
    flights = []
    for index in range(size):
        minute = index % 60
        flights.append(
            {
                "OPERA": rng.choice(known["OPERA"]), "TIPOVUELO": rng.choice(known["TIPOVUELO"]),
                "MES": int(rng.choice(known["MES"])), "Fecha-I": f"2017-03-{1 + index // 60 % 28:02d} 10:{minute:02d}:00",
            }
        )  # fmt: skip
    return json.dumps({"flights": flights})


def show(label: str, result: load.StressResult) -> None:
    print(f"{label:<44} {result.summary_line()}", flush=True)


# ----------------------------------------------------------------- runs
def interleaved(targets: list[tuple[str, str, str]], bodies: list[str], seconds: float, rounds: int) -> dict:
    """label -> wrk results, the targets taking turns round after round, so that a busy
    neighbour on this shared machine slows every target alike (compare medians)."""
    results: dict[str, list[load.StressResult]] = {label: [] for label, _, _ in targets}
    for _ in range(rounds):
        for label, url, path in targets:
            results[label].append(wrk(url, path, bodies, seconds))
    return results


def median_rps(runs: list[load.StressResult]) -> float:
    return statistics.median(run.requests_per_s for run in runs)


def main_goals(model: Path, seconds: float, rounds: int, long_seconds: float, seed: int) -> None:
    with uvicorn_server(model) as url:
        known = known_values(url)
        bodies = load.request_bodies(known, 1_000, 1, seed)
        targets = [("no-op", url, "/noop"), ("raw no-op", url, "/noop-raw"), ("predict", url, "/predict")]
        runs = interleaved(targets, bodies, seconds, rounds)
        for label, title in (
            ("no-op", "no-op POST /noop (FastAPI route)"),
            ("raw no-op", "no-op POST /noop-raw (raw ASGI, the fast path's layer)"),
            ("predict", "POST /predict, 1 flight"),
        ):
            for run in runs[label]:
                show(title, run)
        minimal_batch = load.request_bodies(known, 1, 1_000, seed)[0]
        median, p95 = batch_latency_ms(url, minimal_batch)
        print(f"batch of 1,000 minimal flights (cache on): median {median:.1f} ms, p95 {p95:.1f} ms")
    with uvicorn_server(model, cache_size=0) as url:
        cold_median, cold_p95 = batch_latency_ms(url, minimal_batch, repeats=30)
        print(
            f"batch of 1,000 minimal flights, cache off (model every time): median {cold_median:.1f} ms, p95 {cold_p95:.1f} ms"
        )
        rich_median, rich_p95 = batch_latency_ms(url, rich_batch(known, 1_000, seed), repeats=30)
        print(
            f"batch of 1,000 flights with Fecha-I, cache off (full model): median {rich_median:.1f} ms, p95 {rich_p95:.1f} ms"
        )
    with load.local_server(model) as url:
        long_run = load.stress(url, duration=long_seconds, connections=64, seed=seed)
        show(f"served API + `latam stress`, {long_seconds:.0f} s", long_run)
    passed = (
        long_run.requests >= 150_000 * long_seconds / 45
        and long_run.errors == 0
        and long_run.latency_ms["p99"] < 50
    )
    print(f"goal 2 ({long_seconds:.0f} s, >= {150_000 * long_seconds / 45:,.0f} requests, 0 errors, p99 < 50 ms): "
          f"{'met' if passed else 'NOT met'}; goal 3 (1,000 flights < 25 ms): {'met' if median < 25 else 'NOT met'} "
          f"with the cache, {'met' if max(cold_median, rich_median) < 25 else 'NOT met'} without")  # fmt: skip
    predict_rps, noop_rps = median_rps(runs["predict"]), median_rps(runs["no-op"])
    raw_rps = median_rps(runs["raw no-op"])
    print(
        f"/predict {predict_rps:,.0f} req/s : raw ASGI no-op {raw_rps:,.0f} req/s = {predict_rps / raw_rps:.2f} "
        "(the strictest baseline)"
    )
    print(
        f"/predict {predict_rps:,.0f} req/s : FastAPI no-op {noop_rps:,.0f} req/s = {predict_rps / noop_rps:.2f} "
        "(goal >= 0.75)"
    )


def ablation(model: Path, seconds: float, rounds: int, seed: int) -> None:
    """One serving choice changed at a time against the production setup; all servers start
    first (idle ones cost nothing), then take turns under wrk."""
    variants = [
        ("production (fast path, orjson, plain checks, cache, uvloop+httptools, 1 worker)", {}),
        ("no-op FastAPI endpoint, same app/server", {"path": "/noop"}),
        ("/predict through FastAPI's router (no ASGI fast path)", {"variant": "router"}),
        ("fast path as FastAPI middleware (inside FastAPI's layers)", {"variant": "inner"}),
        ("naive: pydantic body, sync def, model per request", {"variant": "naive"}),
        ("cache off (model per request)", {"cache_size": 0}),
        ("pydantic request model instead of plain checks", {"variant": "pydantic"}),
        ("JSONResponse + json.loads instead of orjson", {"variant": "jsonresponse"}),
        ("asyncio + h11 instead of uvloop + httptools", {"fast_stack": False}),
        ("access log on", {"access_log": True}),
        ("2 workers", {"workers": 2}),
    ]
    with contextlib.ExitStack() as stack:
        targets, production_url = [], None
        for label, options in variants:
            options = dict(options)
            path = options.pop("path", "/predict")
            if path == "/noop":
                targets.append((label, production_url, path))
                continue
            url = stack.enter_context(uvicorn_server(model, **options))
            production_url = production_url or url
            targets.append((label, url, path))
        bodies = load.request_bodies(known_values(production_url), 1_000, 1, seed)
        results = interleaved(targets, bodies, seconds, rounds)
    baseline = median_rps(results[variants[0][0]])
    print(f"{'variant':<84} {'median req/s':>12} {'vs prod':>8} {'p99 ms':>8} {'errors':>7}")
    for label, runs in results.items():
        rps = median_rps(runs)
        p99 = statistics.median(run.latency_ms["p99"] for run in runs)
        errors = sum(run.errors for run in runs)
        print(f"{label:<84} {rps:>12,.0f} {rps / baseline:>8.2f} {p99:>8.1f} {errors:>7}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/model.joblib"))
    parser.add_argument("--seconds", type=float, default=8, help="wrk seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    parser.add_argument("--long-seconds", type=float, default=45, help="the long stress run")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, not the goals)")
    parser.add_argument("--ablation", action="store_true", help="measure each serving choice")
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args()
    if not options.model.exists():
        raise SystemExit(f"no model at {options.model}: run `latam train` (or dvc repro) first")
    model = options.model.resolve()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} before starting")
    seconds, rounds = (2, 1) if options.quick else (options.seconds, options.rounds)
    if options.ablation:
        ablation(model, seconds, rounds, options.seed)
    main_goals(model, seconds, rounds, 6 if options.quick else options.long_seconds, options.seed)


if __name__ == "__main__":
    main()
