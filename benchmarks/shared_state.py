"""What Redis-shared serving state costs per request: `latam serve` with and without
$LATAM_REDIS_URL, side by side in alternating rounds (wrk, POST /predict, one flight), plus how
long a published feed takes to show in GET /model. Figures: reports/shared_state.md.

Usage:
  python benchmarks/shared_state.py --model models/model.joblib --feed departures.csv [--seconds 15 --rounds 3]
Needs wrk and redis-server (apt-get install wrk redis-server).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from latam_airlines import loadtest as load
from latam_airlines.api.shared_state import SharedSettings, feed_and_publish

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from service_servers import RedisServer  # noqa: E402 - the tests' redis-server manager


def measure(model: Path, environment: dict[str, str], seconds: float, connections: int) -> dict:
    with load.local_server(model, extra_env=environment) as url:
        load.stress(url, duration=2, connections=connections)  # warm-up
        result = load.stress(url, duration=seconds, connections=connections)
    return {"requests_per_s": result.requests_per_s, "p50_ms": result.latency_ms["p50"],
            "p99_ms": result.latency_ms["p99"], "errors": result.errors}  # fmt: skip


def time_to_see(model: Path, feed: Path, redis_url: str, folder: Path) -> float:
    """Seconds from a finished publish until GET /model shows the new outcomes_until."""
    served = folder / "served.joblib"
    shutil.copy(model, served)
    with load.local_server(
        served, extra_env={"LATAM_REDIS_URL": redis_url, "LATAM_POLL_SECONDS": "0"}
    ) as url:
        before = load.fetch_json(f"{url}/model")["outcomes_until"]
        feeder = folder / "feeder.joblib"
        shutil.copy(model, feeder)
        after = feed_and_publish(feeder, feed, SharedSettings(redis_url)).after
        published = time.monotonic()
        while load.fetch_json(f"{url}/model")["outcomes_until"] != after:
            if time.monotonic() - published > 30:
                raise RuntimeError(f"the feed ({before} -> {after}) did not show within 30 s")
            time.sleep(0.02)
        return time.monotonic() - published


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--feed", type=Path, required=True, help="departures to feed (after the model's data)"
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latam-shared-bench-") as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        try:
            runs: dict[str, list[dict]] = {"in-process": [], "redis": []}
            base = {key: value for key, value in os.environ.items() if key != "LATAM_REDIS_URL"}
            os.environ.clear()
            os.environ.update(base)
            for _ in range(args.rounds):
                for variant in runs:
                    environment = {"LATAM_REDIS_URL": redis.url} if variant == "redis" else {}
                    runs[variant].append(measure(args.model, environment, args.seconds, args.connections))
                    print(variant, runs[variant][-1], "load", os.getloadavg(), flush=True)
            seen = [time_to_see(args.model, args.feed, redis.url, Path(folder)) for _ in range(3)]
        finally:
            redis.stop()
    summary = {
        variant: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for variant, results in runs.items()
    }
    summary["redis_vs_in_process_requests_per_s"] = round(
        summary["redis"]["requests_per_s"] / summary["in-process"]["requests_per_s"], 3
    )
    summary["feed_visible_after_s"] = [round(value, 3) for value in seen]
    summary["load_average"] = os.getloadavg()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
