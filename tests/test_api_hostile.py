"""One real `latam serve` process on 127.0.0.1 for the module (each start imports the whole model
stack, so the plain and the hostile checks share it): it answers /predict and a short `latam
stress` run against it; against hostile clients there is no 5xx for any request, answers never
echo a huge value, the body limit is answered 413 to clients that send everything first, encoded
bodies 415, slow and idle clients are cut by timeouts, the cache is bounded in bytes; capacity
limits (open connections, body bytes in flight) are answered 429 with Retry-After."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from matplotlib.image import imread

from latam_airlines import loadtest as load
from latam_airlines.api.predictor import CachedPredictor
from latam_airlines.cli import main
from latam_airlines.models import load_model

# Short limits so the timeouts are seen in seconds (the defaults are 10 s and 30 s); far above
# what the predict and stress tests need (8 connections, small bodies).
LIMITS = {
    "LATAM_HEADER_TIMEOUT_S": "1.5",
    "LATAM_BODY_TIMEOUT_S": "2",
    "LATAM_MAX_CONNECTIONS": "40",
    "LATAM_MAX_HEADER_BYTES": "16384",
    "LATAM_MAX_INFLIGHT_BODY_BYTES": str(2 * 2**20),
}


@pytest.fixture(scope="module")
def server(api_model_path: Path):
    with load.local_server(api_model_path, extra_env=LIMITS) as url:
        host, port = url.rsplit("//", 1)[1].split(":")
        yield url, (host, int(port))


@pytest.fixture(scope="module")
def server_url(server) -> str:
    return server[0]


def require_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("wrk is not installed (CI must apt-get install wrk)")
    pytest.skip("wrk is not installed (apt-get install wrk)")


def test_real_server_answers_predict(server_url: str) -> None:
    request = urllib.request.Request(
        f"{server_url}/predict",
        data=json.dumps({"flights": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = json.loads(answer.read())
    assert answer.status == 200
    assert body["predict"][0] in (0, 1) and 0 <= body["probability"][0] <= 1


def test_short_stress_run_writes_summary_and_plot(server_url: str, tmp_path: Path, capsys) -> None:
    require_wrk()
    code = main(["--quiet", "stress", "--url", server_url, "--duration", "2", "--connections", "8",
                 "--output", str(tmp_path)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["requests"] > 100
    assert summary["non_2xx"] == 0 and summary["errors"] == 0
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert summary["requests_per_s"] == pytest.approx(summary["requests"] / summary["duration_s"], rel=0.01)
    height, width, _ = imread(tmp_path / "latency.png").shape  # a readable chart
    assert height > 100 and width > 100
    assert "requests in" in capsys.readouterr().out


def test_stress_counts_errors(server_url: str) -> None:
    require_wrk()
    bad = ['{"flights": [{"OPERA": "Nope", "TIPOVUELO": "N", "MES": 3}]}']
    result = load.run_wrk(server_url, bad, duration=1, connections=2)
    assert result.requests > 0 and result.non_2xx == result.requests


def post(url: str, body: bytes, headers: dict | None = None, timeout: float = 20) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{url}/predict", data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


MINIMAL = {"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 1}
# Requests an attacker or a careless client sends: every answer must be below 500.
HOSTILE_FLIGHTS = [
    {"Fecha-I": "2017-01-01T23:30:00-03:00"},
    {"Fecha-I": "2017-01-01T23:30:00Z"},
    {"Fecha-I": "2017-01-01 23:30:00.123456"},
    {"Fecha-I": "1800-01-01 10:00:00"},
    {"Fecha-I": "9999-12-31 23:59:59"},
    {"Fecha-I": "2017-02-31 10:00:00"},
    {"Fecha-I": "2017-W01-1 10:00"},
    {"Fecha-I": "2017-01-01 10:00:00+99:99"},
    {"Fecha-I": 20170101},
    {"MES": 13},
    {"MES": "7"},
    {"MES": 2**70},
    {"MES": 7.5},
    {"DIA": 31, "MES": 4},
    {"AÑO": -1},
    {"DIA": None, "Des-I": None},
    {"Emp-I": "E" * 100_000},
    {"Ori-I": "\u0000\ud7ff" * 10},
    {"OPERA": ["Grupo LATAM"]},
    {"OPERA": {"$ne": 1}},
    {"DIANOM": "Funday"},
]


def test_no_request_gets_a_5xx_and_no_answer_leaks(server) -> None:
    url, _ = server
    statuses = []
    for change in HOSTILE_FLIGHTS:
        status, body = post(url, json.dumps({"flights": [dict(MINIMAL), dict(MINIMAL, **change)]}).encode())
        statuses.append(status)
        assert status in (200, 400), (change, status, body[:200])
        assert len(body) < 4_000 and b"Traceback" not in body and b"/work/" not in body
    # The three valid spellings of a time are answered, the impossible ones refused.
    assert statuses[:3] == [200, 200, 200] and statuses[3:8] == [400] * 5
    for raw in [b"", b"{", b"[]", b"null", b'{"flights": {}}', b"\xff\xfe", b'{"flights": [' + b"[" * 5000]:
        status, body = post(url, raw)
        assert status == 400 and len(body) < 2_000


def test_a_huge_field_is_not_echoed(server) -> None:
    url, _ = server
    status, body = post(url, json.dumps({"flights": [dict(MINIMAL, OPERA="Z" * 40_000)]}).encode())
    assert status == 400 and len(body) < 1_000


def test_oversize_body_is_413_for_clients_that_send_it_all_first(server) -> None:
    url, _ = server
    huge = b'{"flights": [' + b" " * 14_000_000 + b"]}"  # past 10,000 flights' allowance (~10 MB)
    status, body = post(url, huge)  # urllib writes the whole body before reading: no broken pipe
    assert status == 413 and json.loads(body)["detail"][0]["field"] == "body"


def test_bodies_in_flight_are_bounded_per_worker(server) -> None:
    url, _ = server
    big = b'{"flights": [' + b" " * 3_000_000 + b"]}"  # under the body limit, over the 2 MB in flight
    request = urllib.request.Request(f"{url}/predict", data=big, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=20)  # noqa: S310 - 127.0.0.1
    assert refused.value.code == 429 and refused.value.headers["retry-after"] == "1"
    assert post(url, json.dumps({"flights": [MINIMAL]}).encode())[0] == 200  # the budget is released


def test_an_encoded_body_is_415(server) -> None:
    url, _ = server
    status, _ = post(url, b"\x1f\x8b\x08\x00", {"Content-Encoding": "gzip"})
    assert status == 415


def _read_answer(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_slow_headers_slow_body_and_idle_connections_are_cut(server) -> None:
    _, address = server
    idle = socket.create_connection(address, timeout=10)
    slow_headers = socket.create_connection(address, timeout=10)
    slow_headers.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
    slow_body = socket.create_connection(address, timeout=10)
    slow_body.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    started = time.monotonic()
    assert _read_answer(idle) == b""  # closed without a word
    assert _read_answer(slow_headers).startswith(b"HTTP/1.1 408")
    assert _read_answer(slow_body).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 6
    for sock in (idle, slow_headers, slow_body):
        sock.close()


def test_a_body_still_trickling_after_the_answer_is_cut_too(server) -> None:
    _, address = server
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = _read_answer(sock)  # 200 at once (GET /health ignores the body), then closed
        assert answer.startswith(b"HTTP/1.1 200") and b"408" not in answer
        assert time.monotonic() - started < 6


def test_oversize_headers_are_431(server) -> None:
    _, address = server
    with socket.create_connection(address, timeout=10) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Junk: " + b"j" * 40_000)
        assert _read_answer(sock).startswith(b"HTTP/1.1 431")


def test_connections_beyond_the_cap_are_refused_and_the_server_lives(server) -> None:
    url, address = server
    held = [socket.create_connection(address, timeout=10) for _ in range(45)]
    try:
        time.sleep(0.3)
        refused = 0
        for sock in held[-5:]:
            sock.settimeout(2)
            answer = _read_answer(sock)
            refused += answer.startswith(b"HTTP/1.1 429")
        assert refused >= 1
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert post(url, json.dumps({"flights": [MINIMAL]}).encode())[0] == 200


def test_the_cache_is_bounded_in_bytes_and_keeps_the_minimal_records(api_model_path: Path) -> None:
    model = load_model(api_model_path)
    predictor = CachedPredictor(model, cache_size=1_000_000, cache_bytes=200_000)
    warmed = predictor.warm()
    assert warmed > 0
    destinations = model.known_values["Des_I"]
    for round_ in range(20):
        records = [
            dict(MINIMAL, Des_I=destinations[i % len(destinations)], DIA=1 + i % 28, HORA=round_ % 24)
            for i in range(200)
        ]
        predictor.predict(records)
        assert predictor.cached_bytes <= predictor.cache_bytes
    assert len(predictor._pinned) == warmed  # the minimal records stay answered from memory
