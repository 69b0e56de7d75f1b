"""Sustained hostile load against a real `latam serve`: does it stay up, answer no 5xx, keep
legitimate requests fast and its memory flat?

What runs at once, for --duration seconds (default 600, the issue's ten minutes):
- wrk floods POST /predict with unique values (each request differs): valid flights with a
  unique `Fecha-I` minute and unique 64-character `Emp-I`/`Ori-I` (each a new cache key), unknown
  airlines, impossible dates and 100 kB fields (400s);
- idle connections and slow-header clients (slowloris), kept at --idle open sockets;
- oversize bodies sent whole before reading (12 MB; urllib, expecting 413), gzip bodies (415),
  broken JSON (400);
- a legitimate client sending the minimal record on keep-alive, timed (its p50/p99 are the
  service as users see it under attack).
Reports the status classes seen by every client, socket errors, the legitimate p50/p99 and the
server's RSS (VmRSS of the one worker process) at start, after a warm-up, at the end and its peak.

Usage:
  python benchmarks/abuse.py --model models/model.joblib                 # 600 s
  nice python benchmarks/abuse.py --model models/model.joblib --duration 120
Needs wrk (apt-get install wrk). Binds 127.0.0.1 only; stops its server by pid.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from latam_airlines import loadtest as load

MARKER = "ABUSE_JSON "
WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  s2xx, s4xx, s5xx, other = 0, 0, 0, 0
  big = string.rep("B", 100000)
end
local base = os.time({year = 2016, month = 1, day = 1, hour = 0})
request = function()
  counter = counter + 1
  local unique = string.format("%d-%d", id, counter)
  local kind = counter % 8
  local body
  if kind < 4 then
    -- valid: a new minute of 2016-2019 each time, and unique free text (new cache keys)
    local when = base + ((counter * 7919 + id * 104729) % 2000000) * 60
    local t = os.date("!*t", when)
    body = string.format(
      '{"flights":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":%d,"Fecha-I":"%s","Emp-I":"%s","Ori-I":"%s"}]}',
      t.month, os.date("!%Y-%m-%d %H:%M:00", when),
      string.sub(string.rep(unique, 10), 1, 64), string.sub(string.rep("o" .. unique, 10), 1, 64))
  elseif kind < 6 then
    body = string.format('{"flights":[{"OPERA":"%s","TIPOVUELO":"I","MES":7}]}', string.rep(unique, 8))
  elseif kind == 6 then
    body = string.format('{"flights":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":2,"Fecha-I":"%d-02-31 10:00:00"}]}', 1800 + counter % 8000)
  else
    body = '{"flights":[{"OPERA":"' .. big .. unique .. '","TIPOVUELO":"I","MES":7}]}'
  end
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 200 and status < 300 then s2xx = s2xx + 1 else other = other + 1 end
end
done = function(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s2xx"); b = b + t:get("s4xx"); c = c + t:get("s5xx"); d = d + t:get("other")
  end
  local e = summary.errors
  io.write(string.format('MARKER{"requests":%d,"duration_us":%d,"2xx":%d,"4xx":%d,"5xx":%d,"other":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration, a, b, c, d, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
""".replace("MARKER", MARKER)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1


def status_class(status: int) -> str:
    return f"{status // 100}xx" if status >= 500 else str(status)


def legit_client(address, stop: threading.Event, tally: Tally, latencies: list[float]) -> None:
    body = json.dumps({"flights": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]})
    connection = None
    while not stop.is_set():
        try:
            if connection is None:
                connection = http.client.HTTPConnection(*address, timeout=10)
            started = time.perf_counter()
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            latencies.append((time.perf_counter() - started) * 1000)
            tally.add(f"legit {status_class(answer.status)}")
        except (OSError, http.client.HTTPException) as error:
            tally.add(f"legit error {type(error).__name__}")
            connection = None
        time.sleep(0.02)


def idle_and_slow_clients(address, stop: threading.Event, tally: Tally, sockets_wanted: int) -> None:
    """Keep `sockets_wanted` sockets open: half idle, half sending a header byte now and then."""
    held: list[socket.socket] = []
    while not stop.is_set():
        alive = []
        for sock in held:
            try:
                sock.setblocking(False)
                try:
                    data = sock.recv(1024)
                    if not data or data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.1 429"):
                        tally.add("slow/idle socket closed by server")
                        sock.close()
                        continue
                except BlockingIOError:
                    pass
                if sock.fileno() % 2:
                    sock.send(b"X")
                alive.append(sock)
            except OSError:
                tally.add("slow/idle socket closed by server")
                sock.close()
        held = alive
        while len(held) < sockets_wanted and not stop.is_set():
            try:
                sock = socket.create_connection(address, timeout=5)
                if sock.fileno() % 2:
                    sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                held.append(sock)
                tally.add("slow/idle socket opened")
            except OSError as error:
                tally.add(f"slow/idle connect error {type(error).__name__}")
                break
        stop.wait(1.0)
    for sock in held:
        sock.close()


def odd_requests(url: str, stop: threading.Event, tally: Tally) -> None:
    """Oversize bodies sent whole (413), gzip bodies (415), broken JSON (400), in turn."""
    huge = b'{"flights": [' + b" " * 12_000_000 + b"]}"
    cases = [
        ("oversize", huge, {}),
        ("gzip", b"\x1f\x8b\x08\x00junk", {"Content-Encoding": "gzip"}),
        ("broken json", b'{"flights": [{"OPERA": ', {}),
    ]
    turn = 0
    while not stop.is_set():
        name, body, headers = cases[turn % len(cases)]
        turn += 1
        request = urllib.request.Request(
            f"{url}/predict", data=body, headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - 127.0.0.1
                tally.add(f"{name} {status_class(answer.status)}")
        except urllib.error.HTTPError as error:
            tally.add(f"{name} {status_class(error.code)}")
        except OSError as error:
            tally.add(f"{name} error {type(error).__name__}")
        stop.wait(1.0)


def run_wrk(url: str, duration: float, connections: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="latam-abuse-") as folder:
        script = Path(folder) / "abuse.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        command = [load.wrk_path(), "-t1", f"-c{connections}", f"-d{int(duration)}s", "--timeout=5s",
                   "-s", str(script), f"{url}/predict"]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise RuntimeError(f"wrk failed: {finished.stderr.strip() or finished.stdout.strip()}")
    return json.loads(lines[-1][len(MARKER) :])


@contextlib.contextmanager
def server(model: Path, port: int):
    """The API on 127.0.0.1:port (loadtest.local_server: uvicorn as `latam serve` runs it, in a
    child process); yields that process, whose RSS is read."""
    started: list[subprocess.Popen] = []
    with load.local_server(model, workers=1, port=port, on_process=started.append):
        yield started[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/model.joblib"))
    parser.add_argument("--duration", type=float, default=600, help="seconds of abuse (default 600)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections flooding unique values")
    parser.add_argument("--idle", type=int, default=300, help="idle and slow sockets held open")
    parser.add_argument("--warmup", type=float, default=20, help="seconds before the 'after warm-up' RSS")
    parser.add_argument("--output", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--cache-mb", type=float, help="the server's cache budget (default: params serve.cache_bytes)"
    )
    args = parser.parse_args()

    if args.cache_mb is not None:
        os.environ["LATAM_CACHE_BYTES"] = str(int(args.cache_mb * 2**20))
    port = load.free_port()
    url = f"http://127.0.0.1:{port}"
    address = ("127.0.0.1", port)
    with server(args.model, port) as process:
        rss = {"start": rss_mb(process.pid)}
        samples: list[float] = []
        stop = threading.Event()
        tally = Tally()
        latencies: list[float] = []
        workers = [
            threading.Thread(target=legit_client, args=(address, stop, tally, latencies), daemon=True),
            threading.Thread(
                target=idle_and_slow_clients, args=(address, stop, tally, args.idle), daemon=True
            ),
            threading.Thread(target=odd_requests, args=(url, stop, tally), daemon=True),
        ]
        for worker in workers:
            worker.start()
        result: dict = {}
        flood = threading.Thread(target=lambda: result.update(run_wrk(url, args.duration, args.connections)))
        started = time.monotonic()
        flood.start()
        while flood.is_alive():
            samples.append(rss_mb(process.pid))
            if "after_warmup" not in rss and time.monotonic() - started >= args.warmup:
                rss["after_warmup"] = samples[-1]
            flood.join(timeout=1.0)
        stop.set()
        for worker in workers:
            worker.join(timeout=40)
        alive = process.poll() is None
        rss["end"] = rss_mb(process.pid) if alive else float("nan")
        rss["peak"] = max(samples) if samples else float("nan")
    summary = {
        "duration_s": args.duration,
        "server_alive_at_end": alive,
        "flood": result,
        "clients": dict(sorted(tally.counts.items())),
        "legit_requests": len(latencies),
        "legit_p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "legit_p99_ms": round(statistics.quantiles(latencies, n=100)[98], 2)
        if len(latencies) > 100
        else None,
        "rss_mb": {key: round(value, 1) for key, value in rss.items()},
        "rss_growth_after_warmup_mb": round(rss["end"] - rss.get("after_warmup", rss["start"]), 1),
        "rss_every_30s_mb": [round(value, 1) for value in samples[::30]],
    }
    fivexx = result.get("5xx", 0) + sum(v for k, v in tally.counts.items() if "5xx" in k)
    summary["5xx_total"] = fivexx
    text = json.dumps(summary, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    print(
        f"{args.duration:.0f} s abuse: flood {result.get('requests', 0):,} requests "
        f"(2xx {result.get('2xx', 0):,}, 4xx {result.get('4xx', 0):,}, 5xx {result.get('5xx', 0)}); "
        f"5xx total {fivexx}; legit p99 {summary['legit_p99_ms']} ms; RSS {rss['start']:.0f} -> "
        f"{rss.get('after_warmup', float('nan')):.0f} (warm) -> {rss['end']:.0f} MB (peak {rss['peak']:.0f})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
