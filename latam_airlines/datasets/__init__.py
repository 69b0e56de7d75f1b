"""The real data this package ships: SCL 2017 flights (see datasets/scl/README.md).

Paths point inside the installed package, so notebooks, tests, benchmarks and the CLI read
the same files on a fresh clone or a plain `pip install`, with nothing to download.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SCL_DIR = Path(__file__).resolve().parent / "scl"
SCL_RAW_SAMPLE = SCL_DIR / "raw_sample_2017.csv.gz"  # 13,641 flights, raw challenge format
SCL_FEATURES = SCL_DIR / "features_2017.csv.gz"  # 68,146 flights, processed table


def load_scl_raw() -> pd.DataFrame:
    """The 20 % raw sample in the raw SCL schema (as `load_raw` reads it)."""
    from latam_airlines.data import load_raw

    return load_raw(SCL_RAW_SAMPLE)


def load_scl_features() -> pd.DataFrame:
    """Every 2017 SCL flight as the challenge's processed table (trainable as is)."""
    from latam_airlines.io import read_table

    return read_table(SCL_FEATURES)


__all__ = ["SCL_DIR", "SCL_FEATURES", "SCL_RAW_SAMPLE", "load_scl_features", "load_scl_raw"]
