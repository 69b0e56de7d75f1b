"""Shared fixtures: the real SCL data in ../shared (required under CI=true)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SCL_DIR = Path(os.environ.get("LATAM_SCL_DATA", REPO_ROOT.parent / "shared" / "data" / "scl"))


def _require(path: Path) -> Path:
    if path.exists():
        return path
    message = f"real data not found at {path} (expected ../shared/data/scl beside the repo)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)  # CI has ../shared: a missing file is a broken setup, not a skip
    pytest.skip(message)


@pytest.fixture(scope="session")
def scl_raw_path() -> Path:
    return _require(SCL_DIR / "raw_sample_2017.csv")


@pytest.fixture(scope="session")
def scl_features_path() -> Path:
    return _require(SCL_DIR / "features_2017.csv")


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
