"""`latam serve` and `latam stress` refusing what they cannot do: a missing or corrupt artifact, no
wrk, a remote target. The real served process and a short stress run against it are in
test_api_hostile.py (one server start for both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from latam_airlines import loadtest as load
from latam_airlines.cli import main
from latam_airlines.errors import InputError


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
