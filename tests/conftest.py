"""Shared fixtures: the real SCL 2017 data the package ships (latam_airlines/datasets/scl)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's ThreadedMotoServer) on a free 127.0.0.1 port for the
    session, with the standard AWS environment pointing at it (s3fs, boto3 and dvc read it);
    stopped in a finally, also when setting up fails."""
    moto_server = pytest.importorskip("moto.server", reason='needs moto[server] (pip install -e ".[test]")')
    pytest.importorskip("s3fs", reason='needs s3fs (pip install -e ".[s3]")')
    endpoint = f"http://127.0.0.1:{free_port()}"
    server = moto_server.ThreadedMotoServer(
        ip_address="127.0.0.1", port=int(endpoint.rsplit(":", 1)[1]), verbose=False
    )
    with pytest.MonkeyPatch.context() as env:
        try:
            server.start()
            for name, value in {**S3_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
                env.setenv(name, value)
            env.delenv("AWS_PROFILE", raising=False)
            env.delenv("AWS_ENDPOINT_URL_S3", raising=False)
            yield endpoint
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh, empty bucket on the session's S3 server: `s3://<name>`."""
    import s3fs

    name = f"test-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True).mkdir(name)
    return f"s3://{name}"
