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
