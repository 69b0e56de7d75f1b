"""A real `latam serve` process on 127.0.0.1, a short `latam stress` against it, start-up errors."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from matplotlib.image import imread

from latam_airlines import loadtest as load
from latam_airlines.cli import main
from latam_airlines.errors import InputError


@pytest.fixture(scope="module")
def server_url(api_model_path: Path):
    with load.local_server(api_model_path) as url:
        yield url


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


def test_stress_without_wrk_exits_2_with_install_hint(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["stress", "--url", "http://127.0.0.1:9", "--duration", "1"]) == 2
    error = capsys.readouterr().err
    assert "wrk is not installed" in error and "apt-get install wrk" in error


def test_stress_refuses_remote_targets() -> None:
    with pytest.raises(InputError, match="127.0.0.1"):
        load.base_url("http://example.com:8000")
    assert load.base_url("127.0.0.1:8000/predict") == "http://127.0.0.1:8000"


@pytest.mark.parametrize("artifact", ["missing", "corrupt"])
def test_serve_with_a_bad_artifact_exits_2_with_one_line(artifact: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "model.joblib"
    if artifact == "corrupt":
        path.write_bytes(b"not a model")
    assert main(["serve", "--model", str(path), "--port", "9"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and str(path) in error[0] and "Traceback" not in error[0]


def test_model_path_comes_from_the_environment(monkeypatch, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "from-env.joblib"
    monkeypatch.setenv("LATAM_MODEL_PATH", str(missing))
    assert main(["serve", "--port", "9"]) == 2
    assert str(missing) in capsys.readouterr().err
