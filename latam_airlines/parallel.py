"""Batches of work in this process and `workers - 1` others (loky's reusable executor).

Starting a worker process costs about a second of CPU (it imports pandas, krcf, matplotlib):
on a machine of a few cores the main process takes a share of the batches itself instead of
waiting for the workers, so `workers` cores are used with one process fewer. The executor is
reused: scoring's worker draws the charts too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from typing import Any


def cores(n_jobs: int) -> int:
    """Processes an `n_jobs` setting asks for: every core when negative, at least one."""
    if n_jobs < 0:
        from joblib import cpu_count  # only then: a caller given its worker count needs no joblib

        return cpu_count()
    return max(1, n_jobs)


def run_batches(function: Callable[[Any], Any], batches: Sequence, workers: int) -> Iterator[tuple[int, Any]]:
    """`(index, function(batch))` for every batch, as they finish. Workers take batches from
    the front (put the largest first), this process from the back; `function` must be
    picklable (a module-level function, or a functools.partial of one)."""
    if workers <= 1 or len(batches) < 2:
        for index, batch in enumerate(batches):
            yield index, function(batch)
        return
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=workers - 1)
    front, back = 0, len(batches)
    running: dict = {}

    def feed() -> None:
        nonlocal front
        # Two queued per worker: a worker finishing one starts the next while this process works.
        while len(running) < 2 * (workers - 1) and front < back:
            running[executor.submit(function, batches[front])] = front
            front += 1

    feed()
    while front < back or running:
        if front < back:
            back -= 1
            yield back, function(batches[back])
        done, _ = wait(list(running), timeout=0 if front < back else None, return_when=FIRST_COMPLETED)
        for future in done:
            yield running.pop(future), future.result()
        feed()
