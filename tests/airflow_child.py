"""The Airflow child process of tests/test_orchestration_dags.py (started by
service_servers.AirflowChild): one Python that imports Airflow once and answers every request of
the test module, instead of one fresh interpreter per request paying Airflow's import each time.

Protocol: one JSON request a line on stdin, {"environment": {...}, "code": "..."}; the child makes
`environment` its whole os.environ, runs `code` in a fresh namespace and writes one JSON line
{"result": <the code's `result`>} (or {"error": <traceback>}) on its original stdout. Everything
else the child prints (Airflow's and the tasks' logs) goes to stderr, which the parent keeps in a
log file. End of stdin: the child exits."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import traceback


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # only answers on the answer channel
    for number, line in enumerate(sys.stdin, start=1):
        started, cpu = time.monotonic(), time.process_time()
        request = json.loads(line)
        os.environ.clear()
        os.environ.update(request["environment"])
        namespace: dict = {"__name__": "__airflow_request__"}
        try:
            exec(compile(request["code"], "<request>", "exec"), namespace)
            answer = {"result": namespace.get("result")}
        except BaseException:  # SystemExit of a CLI command included: the parent reports it
            answer = {"error": traceback.format_exc()}
        print(f"[airflow child] request {number}: {time.monotonic() - started:.1f} s, "
              f"{time.process_time() - cpu:.1f} CPU-s", file=sys.stderr)  # fmt: skip
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
    # The worker processes a task started (loky's, of the anomaly job) are stopped and reaped
    # here, not orphaned; then, every answer written and every store committed, the interpreter's
    # teardown of Airflow's, MLflow's and the model stack's modules is skipped (seconds for nothing).
    for worker in multiprocessing.active_children():
        worker.terminate()
        worker.join(timeout=10)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
