"""Redis-shared serving state (api/shared_state.py) against a real redis-server started here."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from latam_airlines.api.app import create_app, model_info
from latam_airlines.api.reloading import ModelSource, ReloadingApp
from latam_airlines.api.shared_state import SharedSettings, SharedState, feed_and_publish
from latam_airlines.errors import InputError
from latam_airlines.models import load_model
from latam_airlines.models.outcomes import export_history, import_history

RECORD = {"flights": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 2, "Des-I": "SCFA",
                       "Fecha-I": "2018-02-02 10:00:00"}]}  # fmt: skip


@pytest.fixture(scope="module")
def january_2018(tmp_path_factory: pytest.TempPathFactory, scl_raw: pd.DataFrame) -> Path:
    """Departures that happened after the training data: the raw sample moved to January 2018."""
    later = scl_raw.copy()
    for column in ("Fecha-I", "Fecha-O"):
        moved = pd.to_datetime(later[column]) + pd.DateOffset(years=1)
        later[column] = moved.dt.strftime("%Y-%m-%d %H:%M:%S")
    later["AÑO"] = 2018
    later = later.drop(columns="DIANOM")  # weekdays move with the year (make_dataset derives them)
    path = tmp_path_factory.mktemp("feed") / "departures_2018_01.csv"
    later[later["Fecha-I"].str.startswith("2018-01")].to_csv(path, index=False)
    return path


def copy_model(source: Path, folder: Path, name: str = "model.joblib") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(source.read_bytes())
    return path


def serving(path: Path, shared: SharedState | None) -> ReloadingApp:
    return ReloadingApp(ModelSource(path), lambda model: create_app(model), poll_seconds=0,
                        info=lambda model: model_info(model, 10_000), shared=shared)  # fmt: skip


def test_history_round_trips_through_bytes_and_refuses_another_models(
    api_model_path: Path, january_2018: Path, tmp_path: Path
) -> None:
    from latam_airlines.models.outcomes import feed_outcomes

    original = load_model(api_model_path)
    fed = load_model(api_model_path)
    feed_outcomes(fed, january_2018)
    restored = import_history(original, export_history(fed))
    assert original.outcomes_until == "2017-12-31"  # the served model is never touched
    assert restored.outcomes_until == fed.outcomes_until == "2018-01-31"
    flights = RECORD["flights"] * 2
    np.testing.assert_allclose(restored.predict_proba(flights), fed.predict_proba(flights))
    assert not np.allclose(original.predict_proba(flights), fed.predict_proba(flights))
    with pytest.raises(InputError, match="outcome history"):
        import_history(original, b"not an npz file")


def test_a_feed_published_to_redis_reaches_a_worker_without_touching_its_file(
    api_model_path: Path, january_2018: Path, tmp_path: Path, redis_server
) -> None:
    settings = SharedSettings(redis_server.url)
    worker_file = copy_model(api_model_path, tmp_path / "worker")
    app = serving(worker_file, SharedState.from_settings(settings))
    client = TestClient(app)
    info = client.get("/model").json()
    assert info["outcomes_until"] == "2017-12-31"
    assert info["shared_state"]["status"] == "connected" and info["shared_state"]["backend"] == "redis"
    assert app.sync_shared_once() is False  # nothing published

    publisher_file = copy_model(api_model_path, tmp_path / "publisher")
    result = feed_and_publish(publisher_file, january_2018, settings)
    assert result.after == "2018-01-31" and "published" in (result.published or "")
    assert worker_file.read_bytes() == api_model_path.read_bytes()  # only Redis carried it
    assert app.sync_shared_once() is True
    info = client.get("/model").json()
    assert info["outcomes_until"] == "2018-01-31"
    assert info["shared_state"]["outcomes_generation"] == info["shared_state"]["generation"]
    assert client.post("/predict", json=RECORD).status_code == 200
    assert app.sync_shared_once() is False  # the same generation is applied once

    # Fed again (a retried DAG run): idempotent per flight, the history does not change.
    again = feed_and_publish(publisher_file, january_2018, settings)
    assert again.before == again.after == "2018-01-31"
    newcomer = serving(copy_model(api_model_path, tmp_path / "newcomer"), SharedState.from_settings(settings))
    assert newcomer.served.model.outcomes_until == "2018-01-31"  # a new worker starts from Redis
    np.testing.assert_allclose(
        newcomer.served.model.predict_proba(RECORD["flights"]),
        app.served.model.predict_proba(RECORD["flights"]),
    )


def test_redis_down_keeps_serving_and_says_so_then_recovers(
    api_model_path: Path, january_2018: Path, tmp_path: Path, redis_server
) -> None:
    settings = SharedSettings(redis_server.url, timeout_s=0.2)
    app = serving(copy_model(api_model_path, tmp_path / "worker"), SharedState.from_settings(settings))
    client = TestClient(app)
    redis_server.stop()
    started = time.monotonic()
    assert app.sync_shared_once() is False
    assert time.monotonic() - started < 2  # a dead Redis costs the poller a timeout, no more
    info = client.get("/model").json()
    assert info["shared_state"]["status"] == "unreachable" and "Connection" in info["shared_state"]["error"]
    assert info["outcomes_until"] == "2017-12-31"
    assert client.post("/predict", json=RECORD).status_code == 200

    publisher_file = copy_model(api_model_path, tmp_path / "publisher")
    result = feed_and_publish(publisher_file, january_2018, settings)  # the artifact still gets it
    assert result.after == "2018-01-31" and result.published.startswith("WARNING")
    assert load_model(publisher_file).outcomes_until == "2018-01-31"

    redis_server.start()
    feed_and_publish(publisher_file, january_2018, settings)
    assert app.sync_shared_once() is True
    info = client.get("/model").json()
    assert info["shared_state"]["status"] == "connected" and info["shared_state"]["error"] is None
    assert info["outcomes_until"] == "2018-01-31"


def test_a_promotion_published_to_redis_makes_workers_repoll_their_source(
    api_model_path: Path, tmp_path: Path, redis_server
) -> None:
    shared = SharedState(redis_server.url)
    path = copy_model(api_model_path, tmp_path / "worker")
    app = serving(path, shared)
    app.sync_shared_once()
    updated = load_model(path)
    updated.metadata["version"] = "promoted"
    updated.save(path)
    os.utime(path, ns=(1, 1))
    shared.publish_model("models:/latam-delay@champion", "2")
    assert app.sync_shared_once() is True  # without waiting for serve.poll_seconds
    assert TestClient(app).get("/model").json()["version"] == "promoted"


def test_a_redis_url_without_the_client_or_a_bad_url_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="Redis URL"):
        SharedState("http://127.0.0.1:1/0")


@pytest.mark.slow
def test_two_serve_processes_see_a_feed_within_5_s_with_zero_errors_under_load(
    api_model_path: Path, january_2018: Path, tmp_path: Path, redis_server
) -> None:
    from latam_airlines import loadtest as load

    environment = {"LATAM_REDIS_URL": redis_server.url, "LATAM_POLL_SECONDS": "0"}  # Redis only
    files = [copy_model(api_model_path, tmp_path / f"server{number}") for number in (1, 2)]
    with load.local_server(files[0], extra_env=environment) as first, \
            load.local_server(files[1], extra_env=environment) as second:  # fmt: skip
        urls = (first, second)
        for url in urls:
            info = load.fetch_json(f"{url}/model")
            assert info["outcomes_until"] == "2017-12-31" and info["shared_state"]["status"] == "connected"
        results: dict[str, object] = {}

        def hammer(url: str) -> None:
            results[url] = load.stress(url, duration=6, connections=8, bodies=200)

        loaders = [threading.Thread(target=hammer, args=(url,)) for url in urls]
        for loader in loaders:
            loader.start()
        time.sleep(1.5)
        result = feed_and_publish(copy_model(api_model_path, tmp_path / "feeder"), january_2018,
                                  SharedSettings(redis_server.url))  # fmt: skip
        published = time.monotonic()  # the feed is in Redis from here
        assert "published" in (result.published or "")
        seen: dict[str, float] = {}
        while len(seen) < len(urls) and time.monotonic() - published < 5:
            for url in urls:
                if url not in seen and load.fetch_json(f"{url}/model")["outcomes_until"] == "2018-01-31":
                    seen[url] = time.monotonic() - published
            time.sleep(0.1)
        states = {url: load.fetch_json(f"{url}/model")["shared_state"] for url in urls}
        for loader in loaders:
            loader.join()
    assert set(seen) == set(urls), f"not every server saw the feed within 5 s: {seen}, {states}"
    for url in urls:
        assert results[url].requests > 0 and results[url].errors == 0, results[url].summary_line()
    for path in files:
        assert path.read_bytes() == api_model_path.read_bytes()  # Redis carried it, not the files
