"""What a load run leaves: summary.json and the latency-by-percentile plot."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

from latam_airlines.loadtest.wrk import StressResult


def write_report(result: StressResult, output_dir: str | Path) -> tuple[Path, Path]:
    """summary.json and latency.png under `output_dir` (each written atomically)."""
    from latam_airlines.io import write_text

    output_dir = Path(output_dir)
    summary = asdict(result) | {"errors": result.errors}
    summary_path = write_text(json.dumps(summary, indent=2) + "\n", output_dir / "summary.json")
    plot_path = plot_latency(result, output_dir / "latency.png")
    return summary_path, plot_path


def plot_latency(result: StressResult, path: str | Path) -> Path:
    """Latency by percentile, the tail stretched (x = number of nines), as a PNG."""
    from latam_airlines.visualization.figures import save_figure, themed

    return save_figure(themed(_latency_figure)(result), path)


def _latency_figure(result: StressResult):
    import matplotlib.pyplot as plt

    points = [(p, ms) for p, ms in result.percentiles_ms if p < 100]
    nines = [-math.log10(1 - p / 100) for p, _ in points]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.plot(nines, [ms for _, ms in points], marker="o", markersize=3)
    axis.axhline(
        result.latency_ms["max"], color="grey", linestyle="--", label=f"max {result.latency_ms['max']:.1f} ms"
    )
    ticks = [50, 90, 99, 99.9, 99.99]
    axis.set_xticks([-math.log10(1 - p / 100) for p in ticks], [f"p{p:g}" for p in ticks])
    axis.set_xlabel("percentile of requests")
    axis.set_ylabel("latency (ms)")
    axis.set_title(
        f"POST /predict latency: {result.requests:,} requests in {result.duration_s:.0f} s "
        f"({result.requests_per_s:,.0f} req/s, {result.connections} connections)"
    )
    axis.legend(loc="upper left")
    return figure
