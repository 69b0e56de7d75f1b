"""Serving a model file with hot swaps (api/reloading.py): no MLflow needed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from latam_airlines.api.app import create_app, model_info
from latam_airlines.api.reloading import ModelSource, ReloadingApp
from latam_airlines.errors import InputError
from latam_airlines.models import load_model

RECORD = {"flights": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory, api_model_path: Path) -> Path:
    path = tmp_path_factory.mktemp("reloading") / "model.joblib"  # a copy: the tests rewrite it
    shutil.copyfile(api_model_path, path)
    return path


def reloading_app(path: Path) -> ReloadingApp:
    return ReloadingApp(ModelSource(path), lambda model: create_app(model), poll_seconds=0,
                        info=lambda model: model_info(model, 10_000))  # fmt: skip


def test_file_source_is_reported_and_swapped_when_the_file_changes(model_file: Path) -> None:
    app = reloading_app(model_file)
    client = TestClient(app)
    info = client.get("/model").json()
    assert info["source"] == "file" and info["uri"] == str(model_file.resolve())
    assert info["registry_version"] is None and info["version"] == load_model(model_file).metadata["version"]
    assert client.post("/predict", json=RECORD).status_code == 200
    assert app.poll_once() is False  # nothing changed
    updated = load_model(model_file)  # as `latam outcomes` does: the same file rewritten
    updated.metadata["version"] = "xgb-updated"
    updated.save(model_file)
    os.utime(model_file, ns=(1, 1))  # a different modification stamp even within one clock tick
    assert app.poll_once() is True
    assert client.get("/model").json()["version"] == "xgb-updated"
    assert client.post("/predict", json=RECORD).status_code == 200


def test_a_broken_new_file_keeps_the_old_model(model_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(model_file.read_bytes())
    app = reloading_app(path)
    path.write_bytes(b"not a model")
    with pytest.raises(InputError):
        app.poll_once()  # the poller thread logs this and keeps serving
    assert TestClient(app).post("/predict", json=RECORD).status_code == 200


def test_unknown_registry_uri_is_a_one_line_input_error() -> None:
    with pytest.raises(InputError, match="models:/"):
        ModelSource("models:/only-a-name")
