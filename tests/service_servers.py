"""Real servers the service tests start themselves, stopped by their own process (also when start-up
fails): Redis (Debian's redis-server, installed by .ci/run) on a free 127.0.0.1 port, and the
Airflow child that answers the DAG tests' requests over its stdin/stdout."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from latam_airlines.loadtest import free_port


class RedisServer:
    """One redis-server child process without persistence; `stop()` kills it by its pid (to test
    what serving does when Redis goes away), `start()` brings it back on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is missing: .ci/run installs it (apt-get install redis-server)")
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.folder), "--daemonize", "no", "--protected-mode", "yes",
        ]  # fmt: skip
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(
            f"redis-server did not answer on port {self.port}: {(self.folder / 'redis.log').read_text()}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


class AirflowChild:
    """One Python child (tests/airflow_child.py) that imports Airflow once and runs every request
    of a test module: `airflow db migrate`, the DagBag check, each `dag.test()`. A fresh
    interpreter per request paid Airflow's import and the DAGs' first parse every time. Each
    request carries its whole environment (the child's settings are read from it, as before).
    Its logs go to `log`; `stop()` closes its stdin and waits, then ends it by its pid."""

    def __init__(self, log: Path, environment: Mapping[str, str]) -> None:
        self.log = log
        self.environment = dict(environment)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        script = Path(__file__).with_name("airflow_child.py")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-u", str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, env=self.environment, text=True,
            )  # fmt: skip

    def run(self, code: str, environment: Mapping[str, str] | None = None, timeout_s: float = 600):
        """The `result` variable `code` sets, run in the child with `environment` (default: the
        child's own); a failure in the child fails the test with its traceback and log."""
        assert self.process is not None and self.process.poll() is None, self.tail()
        request = {"environment": dict(environment or self.environment), "code": textwrap.dedent(code)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout_s):
                self.stop()
                pytest.fail(f"the Airflow child gave no answer within {timeout_s:.0f} s\n{self.tail()}")
        line = self.process.stdout.readline()
        if not line:
            pytest.fail(f"the Airflow child exited (code {self.process.wait(timeout=10)})\n{self.tail()}")
        answer = json.loads(line)
        assert "error" not in answer, f"{answer['error']}\n{self.tail()}"
        return answer["result"]

    def tail(self, characters: int = 5000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()  # end of requests: the child returns
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process = None
