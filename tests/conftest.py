"""Shared fixtures: the real SCL 2017 data the package ships (latam_airlines/datasets/scl)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from latam_airlines.datasets import SCL_FEATURES, SCL_RAW_SAMPLE

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def scl_raw_path() -> Path:
    return SCL_RAW_SAMPLE


@pytest.fixture(scope="session")
def scl_features_path() -> Path:
    return SCL_FEATURES


@pytest.fixture(scope="session")
def scl_features(scl_features_path: Path) -> pd.DataFrame:
    return pd.read_csv(scl_features_path)


@pytest.fixture(scope="session")
def scl_raw(scl_raw_path: Path) -> pd.DataFrame:
    from latam_airlines.data import load_raw

    return load_raw(scl_raw_path)


@pytest.fixture(scope="session")
def scl_interim(scl_raw: pd.DataFrame) -> pd.DataFrame:
    from latam_airlines.data import make_dataset

    return make_dataset(scl_raw)


@pytest.fixture(scope="session")
def api_model_path(tmp_path_factory: pytest.TempPathFactory, scl_features: pd.DataFrame) -> Path:
    """One small xgb artifact for every API test (trained once per session): a seeded
    5,000-flight subset keeps the fit short, and every airline of the year is in it."""
    from latam_airlines.models import train

    path = tmp_path_factory.getbasetemp() / "api_model" / "model.joblib"
    if not path.exists():
        train(scl_features.sample(5_000, random_state=0), model="xgb", params={"n_estimators": 40}).save(path)
    return path


@pytest.fixture
def redis_server(tmp_path: Path):
    """A real Redis on a free loopback port for one test, stopped by its pid afterwards."""
    from service_servers import RedisServer

    server = RedisServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()
