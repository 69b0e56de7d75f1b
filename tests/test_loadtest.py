"""The load test's local server: uvicorn started directly (not the `latam` CLI), stopped by its
pid, with a clear error when it cannot start."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from latam_airlines import loadtest
from latam_airlines.errors import InputError


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_server_is_uvicorn_with_the_serve_settings_not_the_cli():
    from latam_airlines.api.server import APP_FACTORY, UVICORN_SETTINGS

    command = loadtest.uvicorn_command(8123, workers=2)
    assert command[1:4] == ["-m", "uvicorn", APP_FACTORY] and "--factory" in command
    assert "latam_airlines.cli" not in command
    assert f"--http={UVICORN_SETTINGS['http']}" in command and "--workers" in command


def test_local_server_serves_the_model_and_stops(api_model_path: Path):
    processes = []
    port = loadtest.free_port()
    with loadtest.local_server(api_model_path, port=port, on_process=processes.append) as url:
        with urllib.request.urlopen(f"{url}/model", timeout=10) as answer:
            info = json.loads(answer.read())
        assert info["known_values"]["OPERA"]
        assert processes[0].poll() is None
    assert processes[0].poll() is not None and not _listening(port)


@pytest.mark.slow  # a fresh uvicorn interpreter imports the whole model stack only to fail on it
def test_a_server_that_cannot_start_names_the_artifact_and_is_stopped(tmp_path: Path):
    corrupt = tmp_path / "model.joblib"
    corrupt.write_bytes(b"not a model")
    port = loadtest.free_port()
    with (
        pytest.raises(InputError, match="the API server did not start") as caught,
        loadtest.local_server(corrupt, port=port),
    ):
        pytest.fail("must not yield")
    assert str(corrupt) in str(caught.value)
    assert not _listening(port)
