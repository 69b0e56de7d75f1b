"""MLflow tracking, registry, champion/challenger and serving from the registry, against a real
`mlflow server` (SQLite backend, local artifact root) started on a free 127.0.0.1 port."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from latam_airlines import loadtest as load
from latam_airlines.cli import main
from latam_airlines.models import load_model
from latam_airlines.tracking.champion import decide

# Looked up, not imported: importing MLflow costs every collecting worker ~1.5 CPU-s, the fast
# loop's included, and only the tests that talk to a store need it (they import it).
if importlib.util.find_spec("mlflow") is None:
    pytest.skip('the tracking tests need MLflow: pip install -e ".[test]"', allow_module_level=True)
NAME = "latam-delay-test"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """A real MLflow tracking server; stopped (its process group, by its pid) afterwards."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    port = load.free_port()
    executable = Path(sys.executable).with_name("mlflow")
    command = [
        str(executable), "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    # No job-execution runner (a further Python process importing MLflow, for GenAI jobs these
    # tests never start): a third of the server's start-up CPU.
    environment = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=environment
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150  # SQLite schema set-up takes long on a busy machine
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mlflow server did not answer /health within 150 s")
            time.sleep(0.3)
        # /health answers before the server has set up its SQLite store, which it does on the first
        # API call (seconds on a busy machine): make that call here, not in the commands under test,
        # whose tracking calls time out after MLFLOW_HTTP_REQUEST_TIMEOUT.
        search = f"{url}/api/2.0/mlflow/experiments/search?max_results=1"
        with urllib.request.urlopen(search, timeout=max(1.0, deadline - time.monotonic())) as answer:
            assert answer.status == 200
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its uvicorn worker
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def registry_env(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("model_cache")
    return {
        "MLFLOW_TRACKING_URI": mlflow_server,
        "LATAM_TRACKING_REGISTERED_MODEL": NAME,
        "LATAM_TRACKING_EXPERIMENT": "latam-test",
        "LATAM_TRACKING_CACHE_DIR": str(cache),
    }


@pytest.fixture
def use_registry(registry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LATAM_TRACKING", "1")  # conftest turns tracking off for the other tests
    # One threshold fold (as the shared test models and the DAG's retrain test): what these tests
    # assert is what reaches the registry and the server, not the fit; a third of the fits.
    monkeypatch.setenv("LATAM_TRAIN__THRESHOLD_FOLDS", "1")
    for name, value in registry_env.items():
        monkeypatch.setenv(name, value)
    return registry_env


@pytest.fixture(scope="module")
def new_flights(small_features_path: Path) -> Path:
    return small_features_path  # 5,000 real flights (read only)


def dead_uri() -> str:
    return f"http://127.0.0.1:{load.free_port()}"  # nothing listens there


def client():  # an mlflow.MlflowClient of the test's server
    import mlflow

    return mlflow.MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


# ----------------------------------------------------------------- the rule (no server)
def test_decide_promotes_first_champion_and_only_a_clear_winner() -> None:
    champion = {"roc_auc": 0.70, "brier": 0.15}
    assert decide({"roc_auc": 0.65, "brier": 0.2}, None) == (True, "first champion")
    assert decide({"roc_auc": 0.701, "brier": 0.15}, champion, margin=0.002)[0] is False
    assert decide({"roc_auc": 0.71, "brier": 0.15}, champion, margin=0.002)[0] is True
    promote, reason = decide({"roc_auc": 0.71, "brier": 0.16}, champion, margin=0.002, guard_tolerance=0.002)
    assert promote is False and "brier worse" in reason


# ----------------------------------------------------------------- tracking + registry
@pytest.mark.slow  # a real MLflow server (SQLite schema set-up) and model logging
def test_train_logs_run_and_registers_a_version(
    use_registry, new_flights: Path, tmp_path: Path, capsys
) -> None:
    code = main(["train", "--data", str(new_flights), "--model", "logreg", "--no-tuned",
                 "--output", str(tmp_path / "m.joblib"), "--metrics", str(tmp_path / "m.json")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"registered {NAME} version" in out
    experiment = client().get_experiment_by_name("latam-test")
    run = client().search_runs([experiment.experiment_id], "tags.`latam.command` = 'train'")[0]
    assert run.data.params["config.model"] == "logreg"
    assert run.data.params["data.training.rows"] == str(len(pd.read_csv(new_flights)))
    assert 0.5 < run.data.metrics["holdout.roc_auc"] < 1
    assert "holdout.f1_delayed" in run.data.metrics and "train_seconds" in run.data.metrics
    assert len(run.data.tags["data_fingerprint"]) == 64 and "library.scikit-learn" in run.data.tags
    version = client().search_model_versions(f"name='{NAME}'")[0]
    assert version.run_id == run.info.run_id
    assert version.tags["data_fingerprint"] == run.data.tags["data_fingerprint"]
    assert float(version.tags["holdout.roc_auc"]) == pytest.approx(
        run.data.metrics["holdout.roc_auc"], abs=1e-5
    )
    # a pyfunc model with a signature, answering the API's record
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(f"models:/{NAME}/{version.version}")
    inputs = model.metadata.get_input_schema().inputs
    assert [field.name for field in inputs if field.required] == ["OPERA", "TIPOVUELO", "MES"]
    assert {"Fecha-I", "Des-I", "HORA", "MIN", "DIANOM"} <= {field.name for field in inputs}
    record = pd.DataFrame([{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}])
    answer = model.predict(record)
    assert 0 <= answer["delay_probability"].iloc[0] <= 1
    # labelled as the artifact (and so the API) labels: at the answering regime's threshold
    trained = load_model(tmp_path / "m.joblib")
    assert answer["delayed"].tolist() == trained.predict(record)
    assert answer["regime"].tolist() == trained.decide(record)[2].tolist()


@pytest.mark.slow  # a real MLflow server (SQLite schema set-up) and model logging
def test_retrain_promotes_first_then_keeps_a_non_winner(
    use_registry, new_flights: Path, tmp_path: Path, capsys
):
    report = tmp_path / "decision.json"
    args = ["retrain", "--data", str(new_flights), "--model", "logreg", "--report", str(report)]
    assert main(args) == 0, capsys.readouterr().err
    first = json.loads(report.read_text())
    assert first["promote"] and first["champion"] is None and first["reason"] == "first champion"
    champion = client().get_model_version_by_alias(NAME, "champion").version
    assert champion == first["challenger_version"]
    assert (Path(use_registry["LATAM_TRACKING_CACHE_DIR"]) / "champion.joblib").exists()
    # the same data again: an identical challenger cannot gain the margin -> keep
    assert main([*args, "--margin", "0.01"]) == 0
    out = capsys.readouterr().out
    second = json.loads(report.read_text())
    assert not second["promote"] and "KEEP" in out
    assert second["champion_version"] == champion and second["champion"]["roc_auc"] > 0.5
    assert client().get_model_version_by_alias(NAME, "champion").version == champion
    assert client().get_model_version_by_alias(NAME, "challenger").version == second["challenger_version"]
    run = client().get_run(second["run_id"])
    assert run.data.tags["decision"] == "keep"
    assert {"challenger.roc_auc", "champion.roc_auc", "challenger.brier", "champion.brier"} <= set(
        run.data.metrics
    )


@pytest.mark.slow  # a real MLflow server (SQLite schema set-up) and model logging
def test_models_and_promote(use_registry, capsys) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "champion" in out and "challenger" in out
    versions = client().search_model_versions(f"name='{NAME}'")
    oldest = min(int(v.version) for v in versions)
    assert main(["promote", str(oldest)]) == 0
    assert client().get_model_version_by_alias(NAME, "champion").version == str(oldest)
    capsys.readouterr()
    for bad in (["promote", "999"], ["promote", "abc"], ["promote", "1", "--alias", "no such!"]):
        assert main(bad) == 2
        error = capsys.readouterr().err
        assert error.startswith("latam: error:") and len(error.strip().splitlines()) == 1


def test_tracking_down_warns_once_and_train_succeeds(monkeypatch, new_flights: Path, tmp_path: Path, capsys):
    monkeypatch.setenv("LATAM_TRACKING", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead_uri())
    code = main(["train", "--data", str(new_flights), "--model", "reference", "--no-tuned",
                 "--output", str(tmp_path / "m.joblib"), "--metrics", str(tmp_path / "m.json")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0 and (tmp_path / "m.joblib").exists()
    assert captured.err.count("MLflow tracking is off") == 1
    # the registry commands need it: one line, exit 2
    assert main(["models"]) == 2
    assert "registry cannot be reached" in capsys.readouterr().err


# ----------------------------------------------------------------- serving from the registry
def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def post_predict(url: str) -> dict:
    request = urllib.request.Request(
        f"{url}/predict",
        data=json.dumps({"flights": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


@pytest.mark.slow
def test_serve_champion_swaps_under_load_and_falls_back(
    use_registry, tmp_path: Path, capsys, monkeypatch
) -> None:
    from latam_airlines.tracking.registry import set_alias
    from latam_airlines.tracking.runs import tracking_settings

    versions = sorted(int(v.version) for v in client().search_model_versions(f"name='{NAME}'"))
    assert len(versions) >= 2
    set_alias(str(versions[0]), "champion", tracking_settings())
    env = {**use_registry, "LATAM_POLL_SECONDS": "1"}
    with load.local_server(f"models:/{NAME}@champion", extra_env=env) as url:
        info = get_json(f"{url}/model")
        assert info["source"] == "registry" and info["registry_version"] == str(versions[0])
        assert 0 <= post_predict(url)["probability"][0] <= 1
        bodies = load.request_bodies(info["known_values"], 50, 1, seed=0)
        result: dict = {}
        loader = threading.Thread(
            target=lambda: result.update(run=load.run_wrk(url, bodies, duration=6, connections=16))
        )
        loader.start()
        time.sleep(1.5)
        set_alias(str(versions[-1]), "champion", tracking_settings())
        promoted = time.monotonic()
        while get_json(f"{url}/model")["registry_version"] != str(versions[-1]):
            # poll 1 s, plus the download and warm-up of the new model on a busy machine
            assert time.monotonic() - promoted < 4, "the new champion was not served within 4 s (poll 1 s)"
            time.sleep(0.1)
        print(
            f"new champion served {time.monotonic() - promoted:.2f} s after the promotion",
            file=sys.__stderr__,
        )
        loader.join()
        run = result["run"]
        print(f"wrk during the swap: {run.summary_line()}", file=sys.__stderr__)
        assert run.requests > 100 and run.non_2xx == 0 and sum(run.socket_errors.values()) == 0
    # registry down: a fresh server serves the local copy of the champion and says so
    down = {**env, "MLFLOW_TRACKING_URI": dead_uri()}
    with load.local_server(f"models:/{NAME}@champion", extra_env=down) as url:
        info = get_json(f"{url}/model")
        assert info["source"] == "fallback" and info["registry_version"] == str(versions[-1])
        assert "registry unreachable" in info["source_note"]
        assert 0 <= post_predict(url)["probability"][0] <= 1
    # ... and with no local copy either: exit 2, one line
    for name, value in {**down, "LATAM_TRACKING_CACHE_DIR": str(tmp_path / "empty")}.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert main(["serve", "--model", f"models:/{NAME}@champion", "--port", str(load.free_port())]) == 2
    error = capsys.readouterr().err
    assert "no local copy" in error and len(error.strip().splitlines()) == 1


@pytest.mark.slow  # MLflow's SQLite schema set-up
def test_without_a_server_runs_go_to_the_embedded_store(
    monkeypatch, new_flights: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("LATAM_TRACKING", "1")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("LATAM_TRACKING_DATABASE", str(tmp_path / "mlflow.db"))
    monkeypatch.setenv("LATAM_TRACKING_ARTIFACTS", str(tmp_path / "mlartifacts"))
    code = main(["-q", "train", "--data", str(new_flights), "--model", "reference", "--no-tuned",
                 "--output", str(tmp_path / "m.joblib"), "--metrics", str(tmp_path / "m.json")])  # fmt: skip
    assert code == 0
    import mlflow

    store = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = store.get_experiment_by_name("latam-delay")  # params.yaml tracking.experiment
    (run,) = store.search_runs([experiment.experiment_id])
    assert run.data.tags["latam.command"] == "train" and run.data.params["config.model"] == "reference"
    recorded = json.loads((tmp_path / "m.json").read_text())["holdout"]["roc_auc"]
    assert run.data.metrics["holdout.roc_auc"] == pytest.approx(recorded, abs=1e-6)
