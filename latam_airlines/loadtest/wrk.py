"""The wrk client: request bodies from the served model's known values, the wrk Lua script,
running wrk against 127.0.0.1 and parsing what it prints into a StressResult.

wrk (the load generator the challenge used; C, one event loop per thread) sends POST /predict
bodies built from the served model's own known values, so every request is valid and the mix
of flights varies. Without wrk on PATH the stress test stops with a clear message (exit 2): a
Python load generator sharing the machine's cores would measure itself, not the API.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from latam_airlines.errors import InputError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Percentiles read from wrk's latency histogram (the plot's curve and the summary's figures).
PERCENTILES: tuple[float, ...] = (
    1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97, 98, 99, 99.5, 99.9, 99.99, 100,
)  # fmt: skip
_MARKER = "LATAM_WRK "


@dataclass
class StressResult:
    """What one load run measured (latencies in milliseconds)."""

    url: str
    duration_s: float
    connections: int
    threads: int
    batch_size: int
    requests: int
    requests_per_s: float
    latency_ms: dict[str, float]
    non_2xx: int  # wrk counts HTTP status >= 400 here
    socket_errors: dict[str, int]
    percentiles_ms: list[tuple[float, float]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def summary_line(self) -> str:
        latency = self.latency_ms
        return (
            f"{self.requests:,} requests in {self.duration_s:.1f} s = {self.requests_per_s:,.0f} req/s; "
            f"latency p50 {latency['p50']:.2f} ms, p90 {latency['p90']:.2f} ms, "
            f"p99 {latency['p99']:.2f} ms, max {latency['max']:.2f} ms; "
            f"non-2xx {self.non_2xx}, socket errors {sum(self.socket_errors.values())}"
        )


def base_url(url: str) -> str:
    """The API's root URL (a trailing /predict is accepted); only 127.0.0.1 may be loaded."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
        raise InputError("load tests target this machine only: use http://127.0.0.1:PORT", value=url)
    path = parts.path.rstrip("/")
    path = path[: -len("/predict")] if path.endswith("/predict") else path
    return f"http://{parts.netloc}{path}"


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - local URL checked
            return json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise InputError(f"the API does not answer ({error})", value=url) from None


def request_bodies(
    known_values: Mapping[str, Sequence[Any]], count: int, batch_size: int, seed: int
) -> list[str]:
    """`count` JSON bodies of `batch_size` minimal flights drawn from the model's known values."""
    for needed in ("OPERA", "TIPOVUELO", "MES"):
        if not known_values.get(needed):
            raise InputError("the model lists no known values for a required field", column=needed)
    rng = random.Random(seed)
    operators = [str(value) for value in known_values["OPERA"]]
    kinds = [str(value) for value in known_values["TIPOVUELO"]]
    months = [int(value) for value in known_values["MES"]]

    def flight() -> dict[str, Any]:
        return {"OPERA": rng.choice(operators), "TIPOVUELO": rng.choice(kinds), "MES": rng.choice(months)}

    return [
        json.dumps({"flights": [flight() for _ in range(batch_size)]}, ensure_ascii=False)
        for _ in range(count)
    ]


def wrk_script(bodies: Sequence[str]) -> str:
    """A wrk Lua script: POST the bodies round-robin; print the statistics as JSON when done."""
    quoted = ",\n".join(f"[==[{body}]==]" for body in bodies)
    percentiles = ", ".join(repr(float(p)) for p in PERCENTILES)
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{
{quoted}
}}
local position = 0
request = function()
  position = position % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[position])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{_MARKER}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"min_us":%d,"max_us":%d,"mean_us":%f,"percentiles_us":[',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean))
  local wanted = {{{percentiles}}}
  for i, p in ipairs(wanted) do
    if i > 1 then io.write(",") end
    io.write(string.format("[%s,%d]", p, latency:percentile(p)))
  end
  io.write("]}}\\n")
end
"""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise InputError(
            "wrk is not installed: install it (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"
        )
    return path


def run_wrk(
    url: str,
    bodies: Sequence[str],
    duration: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 2.0,
    batch_size: int = 1,
    path: str = "/predict",
) -> StressResult:
    """Drive POST {url}{path} with wrk for `duration` seconds; wrk stops by itself."""
    if duration <= 0 or connections < 1 or threads < 1 or connections < threads:
        raise InputError(
            "need duration > 0 and connections >= threads >= 1",
            value=f"duration={duration}, connections={connections}, threads={threads}",
        )
    root = base_url(url)
    with tempfile.TemporaryDirectory(prefix="latam-wrk-") as folder:
        script = Path(folder) / "predict.lua"
        script.write_text(wrk_script(bodies), encoding="utf-8")
        command = [
            wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, math.ceil(timeout_s))}s", "-s", str(script), f"{root}{path}",
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith(_MARKER)]
    if finished.returncode != 0 or not lines:
        message = (finished.stderr or finished.stdout).strip().splitlines()
        raise InputError(f"wrk failed: {message[-1] if message else 'no output'}", value=root)
    stats = json.loads(lines[-1][len(_MARKER) :])
    return result_from_stats(root, stats, connections, threads, batch_size)


def result_from_stats(url: str, stats: dict, connections: int, threads: int, batch_size: int) -> StressResult:
    """A StressResult from the statistics the wrk script prints (wrk_script's `done`)."""
    seconds = stats["duration_us"] / 1e6
    curve = [(float(p), value / 1000) for p, value in stats["percentiles_us"]]
    lookup = dict(curve)
    return StressResult(
        url=url,
        duration_s=round(seconds, 3),
        connections=connections,
        threads=threads,
        batch_size=batch_size,
        requests=int(stats["requests"]),
        requests_per_s=round(stats["requests"] / seconds, 1) if seconds else 0.0,
        latency_ms={
            "p50": lookup[50.0],
            "p90": lookup[90.0],
            "p99": lookup[99.0],
            "p99.9": lookup[99.9],
            "max": stats["max_us"] / 1000,
            "mean": round(stats["mean_us"] / 1000, 3),
        },  # fmt: skip
        non_2xx=int(stats["status"]),
        socket_errors={key: int(stats[key]) for key in ("connect", "read", "write", "timeout")},
        percentiles_ms=curve,
    )


def stress(
    url: str,
    duration: float | None = None,
    connections: int | None = None,
    threads: int | None = None,
    batch_size: int | None = None,
    bodies: int = 1_000,
    seed: int | None = None,
    timeout_s: float | None = None,
) -> StressResult:
    """Load the API at `url` with valid /predict requests built from its /model known values;
    what is not given comes from the settings (`stress:` section, the seed)."""
    from latam_airlines.settings import current, filled

    duration, connections, threads, batch_size, timeout_s = filled(
        current().stress, duration=duration, connections=connections, threads=threads,
        batch_size=batch_size, timeout_s=timeout_s,
    )  # fmt: skip
    seed = current().seed if seed is None else seed
    root = base_url(url)
    wrk_path()  # fail before anything else when wrk is missing
    info = fetch_json(f"{root}/model")
    payloads = request_bodies(info.get("known_values", {}), bodies, batch_size, seed)
    return run_wrk(root, payloads, duration, connections, threads, timeout_s, batch_size)
