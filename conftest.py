"""Loaded by pytest before tests/conftest.py and before anything imports numpy: the native thread
pools of the test run. OpenBLAS, OpenMP (xgboost, lightgbm) and MKL start one thread per core in
every process by default; with pytest-xdist's workers (and the servers and notebook kernels the
tests start) on the same cores, those threads wait for each other and spin, burning CPU for
nothing (figures: reports/test_durations.md). Each worker gets its share of the cores instead.
A value already set in the environment wins; child processes inherit the limit."""

from __future__ import annotations

import os

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _threads_per_worker(workers: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, workers))


# xdist sets these in each worker before loading conftests; one process alone keeps the libraries'
# default (a thread per core), and the xdist controller runs no tests.
if "PYTEST_XDIST_WORKER" in os.environ:
    for _name in _THREAD_VARIABLES:
        os.environ.setdefault(_name, str(_threads_per_worker(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))
