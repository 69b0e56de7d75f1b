"""Load-test the API from outside it: the wrk client (`wrk`), the report it leaves (`plots`) and
a local server to load (`server`, uvicorn in a child process). `latam stress`,
benchmarks/api_throughput.py and benchmarks/abuse.py drive it."""

from latam_airlines.loadtest.plots import plot_latency, write_report
from latam_airlines.loadtest.server import free_port, local_server, uvicorn_command, wait_healthy
from latam_airlines.loadtest.wrk import (
    LOCAL_HOSTS,
    PERCENTILES,
    StressResult,
    base_url,
    fetch_json,
    request_bodies,
    result_from_stats,
    run_wrk,
    stress,
    wrk_path,
    wrk_script,
)

__all__ = [
    "LOCAL_HOSTS",
    "PERCENTILES",
    "StressResult",
    "base_url",
    "fetch_json",
    "free_port",
    "local_server",
    "plot_latency",
    "request_bodies",
    "result_from_stats",
    "run_wrk",
    "stress",
    "uvicorn_command",
    "wait_healthy",
    "wrk_path",
    "wrk_script",
    "write_report",
]
